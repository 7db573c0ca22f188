"""Template filters for dates and times (library "datetimes", registered in TEMPLATES).

    {{ run.started_at|zoned }}              3 December 2026, 08:14 CET  (deadlines, runs)
    {{ run.started_at|zoned:"short" }}      03/12/2026 08:14 CET
    {{ entry.created_at|to_the_second }}    03/12/2026 08:14:05        (the audit trail)

Plain dates and times use Django's own filters with the named formats:
{{ value|date:"DATE_FORMAT" }}, "SHORT_DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT".
"""

from __future__ import annotations

from datetime import datetime

from django import template

from authority.l10n import moments

register = template.Library()


@register.filter
def zoned(value: datetime | None, style: str = "long") -> str:
    if not isinstance(value, datetime):
        return ""
    if style == "short":
        return moments.short_datetime(value, zone=True)
    return moments.long_datetime(value, zone=True)


@register.filter
def to_the_second(value: datetime | None) -> str:
    if not isinstance(value, datetime):
        return ""
    return moments.short_datetime(value, seconds=True)


@register.filter
def zone_of(value: datetime | None) -> str:
    """CET or CEST: the authority's zone at that moment."""
    return moments.zone_abbreviation(value) if isinstance(value, datetime) else ""
