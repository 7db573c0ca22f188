"""Settings in words: a value as the pages show it, a range in plain language, a duration in
hours or days."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from authority.appconfig.catalogue import Kind, Setting

NONE = "—"

# Each unit's size in seconds, and its words for a count of it.
_UNITS: tuple[tuple[int, Callable[[int], str]], ...] = (
    (86400, lambda n: ngettext("%(n)s day", "%(n)s days", n)),
    (3600, lambda n: ngettext("%(n)s hour", "%(n)s hours", n)),
    (60, lambda n: ngettext("%(n)s minute", "%(n)s minutes", n)),
    (1, lambda n: ngettext("%(n)s second", "%(n)s seconds", n)),
)


def humanize_seconds(seconds: int) -> str:
    """14400 -> "4 hours"; 5400 -> "1 hour 30 minutes" (two units at most)."""
    if seconds <= 0:
        return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}
    parts: list[str] = []
    rest = seconds
    for size, words in _UNITS:
        if rest >= size and len(parts) < 2:
            count, rest = divmod(rest, size)
            parts.append(words(count) % {"n": count})
        elif parts:
            break  # "1 day 4 hours", never "1 day 0 hours 3 seconds"
    return " ".join(parts)


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def describe_range(setting: Setting, platform: str) -> str:
    """The accepted values in plain language ("From 1 to 255.", "From 1 hour to 7 days.")."""
    low, high = setting.bounds(platform)
    kind = setting.kind
    if kind is Kind.SECONDS and low is not None and high is not None:
        return _("From %(min)s to %(max)s.") % {
            "min": humanize_seconds(int(low)),
            "max": humanize_seconds(int(high)),
        }
    if kind is Kind.SCORES:
        return _("Whole numbers from 0 to 8; 0 means that range never counts.")
    if kind is Kind.THRESHOLDS:
        return _("Two whole numbers from 0 to 255, the first lower than the second.")
    if kind in (Kind.URL_MAP, Kind.TEXT_MAP, Kind.NAMED_MAP):
        return _("Required in Italian, English, German, French and Spanish.")
    if kind is Kind.PROBABILITIES and setting.max_items:
        return _("From 1 to %(n)s values, each from 0 to 1.") % {"n": setting.max_items}
    if kind in (Kind.PHONE, Kind.EMAIL):
        return _("Optional.")
    if kind is Kind.BOOLEAN:
        return _("Yes or no.")
    if kind is Kind.HOUR:
        return _("An hour of the day.")
    if kind is Kind.NAME_LIST and setting.max_items:
        return _("From 1 to %(n)s names.") % {"n": setting.max_items}
    if kind is Kind.NUMBER_MAP and high is not None:
        return _("Whole numbers from %(min)s to %(max)s.") % {
            "min": number(low or 0),
            "max": number(high),
        }
    if low is not None and high is not None:
        return _("From %(min)s to %(max)s.") % {"min": number(low), "max": number(high)}
    return ""


def format_value(setting: Setting | None, value: Any) -> str:
    """One value as the pages and the audit trail show it."""
    if value is None:
        return NONE
    kind = setting.kind if setting else None
    if kind is Kind.SECONDS and isinstance(value, int):
        return f"{value} ({humanize_seconds(value)})"
    if kind is Kind.BOOLEAN:
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(number(v) if isinstance(v, int | float) else str(v) for v in value)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return number(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def value_lines(setting: Setting, value: Any) -> list[tuple[str, str]]:
    """A value as (detail, text) lines: one per language or code for the maps."""
    if setting.kind in (Kind.URL_MAP, Kind.TEXT_MAP) and isinstance(value, dict):
        return [(language, format_value(None, text)) for language, text in value.items()]
    if setting.kind is Kind.NAMED_MAP and isinstance(value, dict):
        return [
            (language, "; ".join(f"{code} = {text}" for code, text in entries.items()))
            for language, entries in value.items()
            if isinstance(entries, dict)
        ]
    if setting.kind is Kind.NUMBER_MAP and isinstance(value, dict):
        return [(key, format_value(None, number)) for key, number in value.items()]
    return [("", format_value(setting, value))]
