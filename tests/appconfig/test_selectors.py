"""Reads the rest of the system builds on: the data migration's first versions, and the
settings in force on each day, which the dashboard needs to turn sampled reports into
estimates (count / sampling rate in force that day) and to mark the days a rate changed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from authority.appconfig import selectors
from authority.appconfig.defaults import immuni_defaults
from authority.appconfig.models import SettingsVersion

pytestmark = pytest.mark.django_db


def test_the_data_migration_left_immunis_defaults_in_force(db):
    for platform in ("android", "ios"):
        version = selectors.version_in_force(platform)
        assert version.number == 1
        assert version.document == immuni_defaults(platform)
        assert version.published_by is None
    assert selectors.generation() >= 1


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), timezone.get_current_timezone())


def version(number: int, activates_at: datetime, rate: float, **extra) -> SettingsVersion:
    document = immuni_defaults("android")
    document["operational_info_without_exposure_sampling_rate"] = rate
    return SettingsVersion.objects.create(
        platform="android",
        number=number,
        document=document,
        published_at=activates_at,
        activates_at=activates_at,
        **extra,
    )


def test_the_settings_of_each_day_and_the_days_a_rate_changed(db):
    SettingsVersion.objects.all().delete()
    day = date(2026, 3, 10)
    version(1, at(day, 0) - timedelta(days=3), 0.6)
    version(2, at(day, 15), 0.5)  # changed in the afternoon of the 10th
    version(3, at(day + timedelta(days=2), 0), 0.5, overrides=[])  # same rates: no mark
    version(4, at(day + timedelta(days=3), 9), 0.4, cancelled_at=at(day, 1))  # never in force
    days = selectors.settings_by_day("android", day - timedelta(days=1), day + timedelta(days=3))
    rates = [
        (
            d.day.day,
            d.version,
            d.values["operational_info_without_exposure_sampling_rate"],
            d.changed,
        )
        for d in days
    ]
    assert rates == [
        (9, 1, 0.6, False),
        (10, 2, 0.5, True),
        (11, 2, 0.5, False),
        (12, 3, 0.5, False),
        (13, 3, 0.5, False),
    ]
    assert all(not d.overridden for d in days)


def test_days_before_the_first_version_are_left_out_and_overrides_are_flagged(db):
    SettingsVersion.objects.all().delete()
    day = date(2026, 5, 1)
    version(
        1,
        at(day, 12),
        0.6,
        overrides=[
            {
                "from_build": 200,
                "to_build": None,
                "values": {"operational_info_without_exposure_sampling_rate": 0.3},
            }
        ],
    )
    days = selectors.settings_by_day("android", day - timedelta(days=2), day)
    assert [d.day for d in days] == [day]
    assert days[0].overridden


def test_the_demo_history_has_one_earlier_change(administrator, client):
    from django.core.management import call_command

    from tests.appconfig.conftest import served

    call_command("seed_demo_app_settings")
    history = selectors.history("android")
    assert [(e.version.number, e.status) for e in history] == [(2, "in_force"), (1, "superseded")]
    assert history[0].version.published_by == administrator
    assert served(client, "android")["operational_info_without_exposure_sampling_rate"] == 0.5
    call_command("seed_demo_app_settings")  # once only
    assert selectors.latest_number("android") == 2
    # The embedded run's history passes today's validation, every version of it.
    from authority.appconfig import services

    for platform in ("android", "ios"):
        for version in selectors.versions(platform):
            content = services.Content(version.document, version.overrides, version.newest_build)
            assert services.content_problems(platform, content) == [], version
