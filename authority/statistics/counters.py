"""The database side of the daily counters: what identifies one, and the race-safe upsert that
both the direct path (services.increment) and the buffer's flush use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F

from authority.statistics.models import NATIONAL, NO_OPERATOR, DailyCounter


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
