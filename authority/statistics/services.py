"""Incrementing the daily counters: atomic, safe under concurrent writers."""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from authority.statistics.models import NATIONAL, NO_OPERATOR, DailyCounter


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
    """Add `amount` to one counter, creating it on first use."""
    key = {
        "day": day or local_day(),
        "metric": metric,
        "region_id": region_id or NATIONAL,
        "operator_id": operator_id or NO_OPERATOR,
        "bucket": bucket,
    }
    if DailyCounter.objects.filter(**key).update(value=F("value") + amount):
        return
    try:
        with transaction.atomic():
            DailyCounter.objects.create(**key, value=amount)
    except IntegrityError:
        # Another writer created it between our update and insert: add to theirs.
        DailyCounter.objects.filter(**key).update(value=F("value") + amount)
