"""Incrementing the daily counters: atomic, safe under concurrent writers, optionally buffered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from authority.statistics.models import NATIONAL, NO_OPERATOR, DailyCounter


def local_day(moment: datetime | None = None) -> date:
    """The day in the authority's time zone (Europe/Rome by default), not UTC."""
    return timezone.localdate(moment or timezone.now())


@dataclass(frozen=True)
class CounterKey:
    """What identifies one DailyCounter row."""

    day: date
    metric: str
    region_id: int = NATIONAL
    operator_id: int = NO_OPERATOR
    bucket: str = ""

    def as_filter(self) -> dict[str, object]:
        return {
            "day": self.day,
            "metric": self.metric,
            "region_id": self.region_id,
            "operator_id": self.operator_id,
            "bucket": self.bucket,
        }


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
        from authority.statistics import buffer

        buffer.add(key, amount)
        return
    add_to_counter(key, amount)


def add_to_counter(key: CounterKey, amount: int) -> None:
    """The database upsert itself: update, or insert when missing, or update the winner's row."""
    filters = key.as_filter()
    if DailyCounter.objects.filter(**filters).update(value=F("value") + amount):
        return
    try:
        with transaction.atomic():
            DailyCounter.objects.create(**filters, value=amount)
    except IntegrityError:
        # Another writer created it between our update and insert: add to theirs.
        DailyCounter.objects.filter(**filters).update(value=F("value") + amount)
