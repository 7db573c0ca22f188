"""Dates and times for people: in the authority's time zone, in the active language's formats.

Pages use the template filters of authority.l10n.templatetags; Python code that builds text for
people (messages, e-mails) calls these. Machines get ISO 8601 instead (downloads, the API).
No string here is marked for translation: the words come from the format modules and Django's
month names (see docs/dates-and-times.md).
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import formats, timezone


def in_authority_zone(moment: datetime) -> datetime:
    """The moment on the authority's clock (TIME_ZONE), whatever zone it was stored in."""
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def zone_abbreviation(moment: datetime) -> str:
    """CET or CEST for Rome: the zone's name at that moment, daylight saving included."""
    return in_authority_zone(moment).tzname() or ""


def long_date(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = in_authority_zone(day)
    return formats.date_format(day, "DATE_FORMAT")


def short_date(day: date | datetime) -> str:
    if isinstance(day, datetime):
        day = in_authority_zone(day)
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def long_datetime(moment: datetime, *, zone: bool = False) -> str:
    """3 December 2026, 08:14 (CET when `zone`: for deadlines and runs, where it matters)."""
    text = formats.date_format(in_authority_zone(moment), "DATETIME_FORMAT")
    return f"{text} {zone_abbreviation(moment)}" if zone else text


def short_datetime(moment: datetime, *, zone: bool = False, seconds: bool = False) -> str:
    """03/12/2026 08:14 (with seconds for the audit trail, the zone where it matters)."""
    local = in_authority_zone(moment)
    if seconds:
        text = f"{formats.date_format(local, 'SHORT_DATE_FORMAT')} {local:%H:%M:%S}"
    else:
        text = formats.date_format(local, "SHORT_DATETIME_FORMAT")
    return f"{text} {zone_abbreviation(moment)}" if zone else text


def time_of_day(moment: datetime, *, seconds: bool = False, zone: bool = False) -> str:
    local = in_authority_zone(moment)
    text = f"{local:%H:%M:%S}" if seconds else formats.time_format(local, "TIME_FORMAT")
    return f"{text} {zone_abbreviation(moment)}" if zone else text


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 timestamp with its offset (as the audit trail stores them), or None."""
    if not isinstance(value, str) or len(value) < 19 or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None
