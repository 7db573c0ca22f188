"""Reads of the apps' settings: the version in force at a time, the scheduled ones, the
history, the draft, and the settings that applied on each day (for the statistics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from authority.appconfig.models import (
    SettingsDraft,
    SettingsGeneration,
    SettingsVersion,
    SettingsVersionQuerySet,
)


def versions(platform: str) -> SettingsVersionQuerySet:
    return SettingsVersion.objects.filter(platform=platform).select_related(
        "published_by", "cancelled_by"
    )


def version(platform: str, number: int) -> SettingsVersion | None:
    return versions(platform).filter(number=number).first()


def version_in_force(platform: str, *, at: datetime | None = None) -> SettingsVersion | None:
    """The live version with the latest activation not after `at` (now)."""
    at = at or timezone.now()
    return (
        versions(platform)
        .live()
        .filter(activates_at__lte=at)
        .order_by("-activates_at", "-number")
        .first()
    )


def scheduled_versions(platform: str, *, at: datetime | None = None) -> list[SettingsVersion]:
    """Live versions that come into force after `at`, soonest first."""
    at = at or timezone.now()
    return list(
        versions(platform).live().filter(activates_at__gt=at).order_by("activates_at", "number")
    )


def latest_number(platform: str) -> int:
    return SettingsVersion.objects.filter(platform=platform).aggregate(n=Max("number"))["n"] or 0


def draft(platform: str) -> SettingsDraft | None:
    return SettingsDraft.objects.filter(platform=platform).select_related("updated_by").first()


def generation() -> int:
    """The number publications bump (0 before the first)."""
    row = SettingsGeneration.objects.filter(pk=1).values_list("value", flat=True).first()
    return row or 0


@dataclass(frozen=True)
class HistoryEntry:
    version: SettingsVersion
    status: str  # "in_force", "scheduled", "superseded", "cancelled"


def history(platform: str, *, at: datetime | None = None) -> list[HistoryEntry]:
    at = at or timezone.now()
    in_force = version_in_force(platform, at=at)
    entries = []
    for item in versions(platform).order_by("-number"):
        if item.cancelled_at is not None:
            status = "cancelled"
        elif in_force is not None and item.pk == in_force.pk:
            status = "in_force"
        elif item.activates_at > at:
            status = "scheduled"
        else:
            status = "superseded"
        entries.append(HistoryEntry(item, status))
    return entries


def releases(platform: str, *, at: datetime) -> list[SettingsVersion]:
    """The version in force at `at` and every later scheduled one, in activation order: all a
    process needs to serve the right one until the next publication."""
    current = version_in_force(platform, at=at)
    later = scheduled_versions(platform, at=at)
    return ([current] if current else []) + later


# --- The statistics' view of the settings ---------------------------------------------------------

# The settings the statistics need to read the apps' reports: how many phones a report stands
# for, and how much traffic is cover traffic.
SAMPLING_KEYS = (
    "operational_info_with_exposure_sampling_rate",
    "operational_info_without_exposure_sampling_rate",
    "dummy_analytics_waiting_time",
    "dummy_teks_average_opportunity_waiting_time",
    "dummy_teks_average_request_waiting_time",
    "dummy_teks_request_probabilities",
)


@dataclass(frozen=True)
class DaySettings:
    """The settings that applied to the reports of one day, for one platform.

    `values` are those of the version in force at the end of the day (the base document: a
    build override may give some builds other rates, `overridden` says so, and
    `overridden_keys` which of these settings an override gives another value). `changed` is
    true when versions with different values were in force during the day: estimates for
    that day mix two rates, and the dashboard marks it.
    """

    day: date
    version: int
    values: dict[str, Any]
    changed: bool
    overridden: bool
    overridden_keys: frozenset[str] = frozenset()


def settings_by_day(platform: str, since: date, until: date) -> list[DaySettings]:
    """One entry per day from `since` to `until` (the authority's days), from one query; days
    before the first version are left out."""
    live = list(versions(platform).live().order_by("activates_at", "number"))
    return _by_day(live, since, until)


def settings_by_day_of_every_platform(since: date, until: date) -> dict[str, list[DaySettings]]:
    """settings_by_day for every platform, from one query (the dashboard's per page)."""
    live: dict[str, list[SettingsVersion]] = {}
    for item in SettingsVersion.objects.live().order_by("activates_at", "number"):
        live.setdefault(item.platform, []).append(item)
    return {platform: _by_day(items, since, until) for platform, items in live.items()}


def _by_day(live: list[SettingsVersion], since: date, until: date) -> list[DaySettings]:
    zone = timezone.get_current_timezone()
    result = []
    day = since
    while day <= until:
        start = datetime.combine(day, time.min, zone)
        end = datetime.combine(day + timedelta(days=1), time.min, zone)
        during = [v for v in live if v.activates_at < end]
        if during:
            at_start = [v for v in during if v.activates_at <= start]
            in_force_at_start = at_start[-1:] if at_start else []
            in_day = in_force_at_start + [v for v in during if start < v.activates_at < end]
            last = in_day[-1]
            values = {key: last.document.get(key) for key in SAMPLING_KEYS}
            changed = any(
                {key: other.document.get(key) for key in SAMPLING_KEYS} != values
                for other in in_day
            )
            overridden = any(
                key in override.get("values", {})
                for override in last.overrides
                for key in SAMPLING_KEYS
            )
            differing = frozenset(
                key
                for override in last.overrides
                for key, value in override.get("values", {}).items()
                if key in SAMPLING_KEYS and value != values[key]
            )
            result.append(DaySettings(day, last.number, values, changed, overridden, differing))
        day += timedelta(days=1)
    return result
