"""Reads of the daily counters for the dashboard, the open data and /metrics, aggregated in the
database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet, Sum

from authority.accounts.models import Region
from authority.dashboard.counters import ABROAD_CODE, Counter
from authority.keys.models import Batch, SigningKey
from authority.statistics.disclosure import DailyFigures
from authority.statistics.models import NATIONAL, NO_OPERATOR, DailyCounter


@dataclass(frozen=True)
class Scope:
    """The dashboard's filter: a range of days (both included) and a region, or the country."""

    since: date
    until: date
    region: Region | None = None
    # Reads that several charts of one page share (the apps' settings of each day), made once
    # per scope, that is once per request: not part of the scope's identity.
    shared: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def days(self) -> list[date]:
        return [self.since + timedelta(days=n) for n in range((self.until - self.since).days + 1)]

    @property
    def region_code(self) -> str:
        return self.region.code if self.region else ""

    @property
    def cache_key(self) -> str:
        return f"{self.since.isoformat()}:{self.until.isoformat()}:{self.region_code or 'all'}"


def _counters(
    metrics: Iterable[str], since: date, until: date, region: Region | None
) -> QuerySet[DailyCounter]:
    counters = DailyCounter.objects.filter(metric__in=list(metrics), day__gte=since, day__lte=until)
    if region is not None:
        counters = counters.filter(region_id=region.pk)
    return counters


def daily_totals(
    scope: Scope, metrics: Iterable[str], *, national: bool = False
) -> dict[str, dict[date, int]]:
    """metric -> day -> total over the scope's region (or all of them). `national` metrics are
    counted for the whole country only, whatever the region."""
    region = None if national else scope.region
    rows = (
        _counters(metrics, scope.since, scope.until, region)
        .values("metric", "day")
        .annotate(total=Sum("value"))
        .order_by()
    )
    result: dict[str, dict[date, int]] = defaultdict(dict)
    for row in rows:
        result[row["metric"]][row["day"]] = row["total"]
    return result


def daily_counter_totals(
    scope: Scope, wanted: Iterable[Counter], *, national: bool = False
) -> dict[Counter, dict[date, int]]:
    """counter -> day -> total, for counters of all buckets or of one."""
    wanted = set(wanted)
    region = None if national else scope.region
    whole = {c.metric for c in wanted if c.bucket is None}
    result: dict[Counter, dict[date, int]] = {counter: {} for counter in wanted}
    if whole:
        for metric, values in daily_totals(scope, whole, national=national).items():
            result[Counter(metric)] = values
    split = {c.metric for c in wanted if c.bucket is not None}
    if split:
        rows = (
            _counters(split, scope.since, scope.until, region)
            .values("metric", "bucket", "day")
            .annotate(total=Sum("value"))
            .order_by()
        )
        for row in rows:
            counter = Counter(row["metric"], row["bucket"])
            if counter in wanted:
                result[counter][row["day"]] = row["total"]
    return result


def daily_bucket_totals(
    scope: Scope, metrics: Iterable[str], *, national: bool = False
) -> dict[str, dict[str, dict[date, int]]]:
    """metric -> bucket -> day -> total, for every bucket counted in the scope (one query)."""
    region = None if national else scope.region
    rows = (
        _counters(metrics, scope.since, scope.until, region)
        .values_list("metric", "bucket", "day")
        .annotate(total=Sum("value"))
        .order_by()
    )
    result: dict[str, dict[str, dict[date, int]]] = {}
    for metric, bucket, day, total in rows:
        result.setdefault(metric, {}).setdefault(bucket, {})[day] = total
    return result


def totals(
    scope: Scope, metrics: Iterable[str], *, since: date | None = None, national: bool = False
) -> dict[str, int]:
    """metric -> total over the scope (from `since` instead of its start, when given)."""
    region = None if national else scope.region
    rows = (
        _counters(metrics, since or scope.since, scope.until, region)
        .values("metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {row["metric"]: row["total"] for row in rows}


def bucket_totals(scope: Scope, metric: str) -> dict[str, int]:
    rows = (
        _counters([metric], scope.since, scope.until, scope.region)
        .values("bucket")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {row["bucket"]: row["total"] for row in rows}


def region_totals(scope: Scope, metrics: Iterable[str]) -> dict[int, dict[str, int]]:
    """region id -> metric -> total over the scope's days, every region; NATIONAL holds the
    figures of people living abroad (counters kept per region only)."""
    rows = (
        _counters(metrics, scope.since, scope.until, None)
        .values("region_id", "metric")
        .annotate(total=Sum("value"))
        .order_by()
    )
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        result[row["region_id"]][row["metric"]] = row["total"]
    return result


def published_figures(
    since: date, until: date, wanted: Iterable[Counter], *, k: int
) -> DailyFigures:
    """Every figure of these counters on these days, by area (region code, or EX for abroad)
    and for the country, with what the one suppression rule withholds (DailyFigures)."""
    wanted = set(wanted)
    figures = DailyFigures(k=k)
    days = Scope(since=since, until=until).days
    by_area = {c.metric for c in wanted if not c.national_only}
    if by_area:
        codes = dict(Region.objects.values_list("pk", "code"))
        # Every area in one order, so that ties are broken alike in every release.
        areas = sorted(codes.values())
        cells: dict[tuple[date, str], dict[str, int]] = defaultdict(dict)
        rows = (
            _counters(by_area, since, until, None)
            .values("day", "region_id", "metric")
            .annotate(total=Sum("value"))
            .values_list("day", "region_id", "metric", "total")
            .order_by()
        )
        for day, region_id, metric, total in rows:
            area = ABROAD_CODE if region_id == NATIONAL else codes.get(region_id, f"#{region_id}")
            cells[(day, metric)][area] = total
        for day in days:
            for metric in sorted(by_area):
                values = cells.get((day, metric), {})
                ordered = {area: 0 for area in areas} | {ABROAD_CODE: 0} | values
                figures.add_areas(day, Counter(metric), ordered)
    national = {c for c in wanted if c.national_only}
    if national:
        scope = Scope(since=since, until=until)
        series = daily_counter_totals(scope, national, national=True)
        for counter in sorted(national, key=lambda c: (c.metric, c.bucket or "")):
            for day in days:
                figures.add_national(day, counter, series[counter].get(day, 0))
    return figures


def operator_daily_totals(scope: Scope, metrics: Iterable[str]) -> dict[tuple[date, int], int]:
    """(day, operator id) -> codes, in the scope's region; operator 0 is the HIS (API keys)."""
    assert scope.region is not None
    rows = (
        _counters(metrics, scope.since, scope.until, scope.region)
        .values("day", "operator_id")
        .annotate(total=Sum("value"))
        .order_by()
    )
    return {(row["day"], row["operator_id"]): row["total"] for row in rows}


def is_machine_issuer(operator_id: int) -> bool:
    return operator_id == NO_OPERATOR


# --- Publication (authority.keys) -----------------------------------------------------------


@dataclass(frozen=True)
class LastBatch:
    index: int
    published_at: datetime
    key_count: int


@dataclass(frozen=True)
class ActiveSigningKey:
    key_id: str
    version: str
    created_at: datetime


def last_published_batch() -> LastBatch | None:
    batch = (
        Batch.objects.filter(country="", published_at__isnull=False, index__isnull=False)
        .order_by("-index")
        .values_list("index", "published_at", "key_count")
        .first()
    )
    if batch is None:
        return None
    index, published_at, key_count = batch
    assert index is not None and published_at is not None  # filtered above
    return LastBatch(index=index, published_at=published_at, key_count=key_count)


def active_signing_key() -> ActiveSigningKey | None:
    key = (
        SigningKey.objects.filter(retired_at__isnull=True)
        .order_by("-created_at", "-id")
        .values("key_id", "version", "created_at")
        .first()
    )
    return ActiveSigningKey(**key) if key else None


def counted_ever(metric: str) -> bool:
    """Whether the metric was ever counted, anywhere: tells "nothing yet" from "none now"."""
    return DailyCounter.objects.filter(metric=metric, value__gt=0).exists()
