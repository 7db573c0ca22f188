"""Reads about codes: the unusual-issuance warning (administrators; a supervisor's own region)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Sum

from authority.accounts.models import Region
from authority.otps import metrics
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day


@dataclass(frozen=True)
class IssuanceSurge:
    """A region that gave far more codes today than it usually does."""

    region: Region
    today: int
    daily_mean: float

    @property
    def ratio(self) -> float | None:
        return self.today / self.daily_mean if self.daily_mean else None


def issuance_surges(
    *, today: date | None = None, region: Region | None = None
) -> list[IssuanceSurge]:
    """Regions whose codes today exceed OTP_SURGE_FACTOR x their mean over the previous
    OTP_SURGE_WINDOW_DAYS days (days without codes count as 0) and OTP_SURGE_FLOOR; only
    `region`, when given (a supervisor's home page)."""
    today = today or local_day()
    window = settings.OTP_SURGE_WINDOW_DAYS
    counters = DailyCounter.objects.filter(
        metric__in=metrics.GRANTED, day__gte=today - timedelta(days=window), day__lte=today
    )
    if region is not None:
        counters = counters.filter(region_id=region.pk)
    rows = counters.values("region_id", "day").annotate(total=Sum("value"))
    todays: dict[int, int] = defaultdict(int)
    earlier: dict[int, int] = defaultdict(int)
    for row in rows:
        (todays if row["day"] == today else earlier)[row["region_id"]] += row["total"]
    surging = []
    for region_id, count in todays.items():
        mean = earlier[region_id] / window
        if count > settings.OTP_SURGE_FLOOR and count > settings.OTP_SURGE_FACTOR * mean:
            surging.append((region_id, count, mean))
    if region is not None:
        regions = {region.pk: region} if surging else {}
    else:
        regions = Region.objects.in_bulk([region_id for region_id, _, _ in surging])
    return sorted(
        (
            IssuanceSurge(region=regions[region_id], today=count, daily_mean=mean)
            for region_id, count, mean in surging
            if region_id in regions
        ),
        key=lambda surge: -surge.today,
    )
