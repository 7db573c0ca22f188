"""Incrementing the daily counters: atomic, safe under concurrent writers, optionally buffered."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from authority.statistics import buffer
from authority.statistics.counters import CounterKey, add_to_counter
from authority.statistics.models import NATIONAL, NO_OPERATOR

__all__ = ["CounterKey", "increment", "local_day"]


def local_day(moment: datetime | None = None) -> date:
    """The day in the authority's time zone (Europe/Rome by default), not UTC."""
    return timezone.localdate(moment or timezone.now())


def increment(
    metric: str,
    *,
    region_id: int | None = None,
    operator_id: int | None = None,
    bucket: str = "",
    amount: int = 1,
    day: date | None = None,
) -> None:
    """Add `amount` to one counter, creating it on first use.

    With STATISTICS_BUFFERED the addition goes to Redis once the current transaction commits,
    and the periodic flush (tasks.statistics.flush_counters) brings it to the database;
    metrics that are read back at once (the daily quotas of codes) are always written here.
    """
    key = CounterKey(
        day=day or local_day(),
        metric=metric,
        region_id=region_id or NATIONAL,
        operator_id=operator_id or NO_OPERATOR,
        bucket=bucket,
    )
    if settings.STATISTICS_BUFFERED and metric not in settings.STATISTICS_UNBUFFERED_METRICS:
        buffer.add(key, amount)
        return
    add_to_counter(key, amount)
