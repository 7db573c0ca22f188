"""Reads of the federation's data: what the publication takes from it, and what the operators' page shows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet, Sum

from authority.federation import configuration, metrics
from authority.federation.configuration import CertificateInfo
from authority.federation.models import FederationRun, InboundChunk, OutboundBatch, ReceivedKey
from authority.statistics.models import DailyCounter

INTERVAL_SECONDS = 600


def _due_interval(now: datetime) -> int:
    """Foreign keys, like ours, are published only once they stopped being valid plus the embargo."""
    embargo = timedelta(minutes=settings.KEYS_EMBARGO_MINUTES)
    return int((now - embargo).timestamp()) // INTERVAL_SECONDS


def received_keys_for_national_export(*, now: datetime) -> QuerySet[ReceivedKey]:
    """Foreign keys that list our country among their visited ones: every phone of ours gets them."""
    return ReceivedKey.objects.filter(
        for_national_export=True, rolling_end_interval_number__lte=_due_interval(now)
    )


def received_keys_for_other_countries(*, now: datetime) -> QuerySet[ReceivedKey]:
    """Foreign keys due for the per-country exports (any country): those that do not list ours."""
    return ReceivedKey.objects.filter(
        for_national_export=False, rolling_end_interval_number__lte=_due_interval(now)
    )


def received_keys_for_country(*, country: str, now: datetime) -> QuerySet[ReceivedKey]:
    """Foreign keys for our users who visited `country` (Immuni's /v1/keys/eu/{country}): keys
    from that country, or that visited it, and that did not already go to the national exports."""
    return received_keys_for_other_countries(now=now).filter(
        Q(origin=country) | Q(visited_countries__contains=f",{country},")
    )


def latest_runs(*, limit: int = 20) -> QuerySet[FederationRun]:
    return FederationRun.objects.select_related("requested_by").order_by("-started_at", "-id")[
        :limit
    ]


def last_run(kind: str) -> FederationRun | None:
    """The newest upload or download run, whatever its outcome."""
    return (
        FederationRun.objects.filter(kind=kind)
        .select_related("requested_by")
        .order_by("-started_at", "-id")
        .first()
    )


def last_successful_run(kind: str) -> FederationRun | None:
    return (
        FederationRun.objects.filter(kind=kind, status=FederationRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .first()
    )


def refused_chunks(*, limit: int = 50) -> QuerySet[InboundChunk]:
    return (
        InboundChunk.objects.filter(verified=False)
        .select_related("batch")
        .order_by("-batch__downloaded_at", "position")[:limit]
    )


def refused_uploads(*, limit: int = 20) -> QuerySet[OutboundBatch]:
    """Our batches the gateway refused (400, 409 on a new tag, 413), newest first."""
    return OutboundBatch.objects.filter(status=OutboundBatch.Status.REFUSED).order_by(
        "-finished_at", "-id"
    )[:limit]


def held_uploads() -> QuerySet[OutboundBatch]:
    """Our batches held for an operator: the gateway may have stored them and has forgotten."""
    return OutboundBatch.objects.filter(status=OutboundBatch.Status.HELD).order_by(
        "first_sent_at", "id"
    )


def keys_waiting_to_be_shared() -> int:
    """Queued keys not yet in a batch (shared once due and numerous enough)."""
    from authority.federation.models import OutboundKey

    return OutboundKey.objects.filter(batch__isnull=True).count()


@dataclass(frozen=True)
class ConfigurationState:
    """What the operators' page says about the configuration."""

    enabled: bool
    problem: str = ""  # why a configured federation cannot work, for administrators
    gateway_url: str = ""
    country: str = ""
    countries: tuple[str, ...] = ()
    callback_url: str = ""
    certificates: tuple[CertificateInfo, ...] = ()

    @property
    def usable(self) -> bool:
        return self.enabled and not self.problem

    @property
    def warnings(self) -> tuple[CertificateInfo, ...]:
        return tuple(info for info in self.certificates if info.expires_soon)


def configuration_state() -> ConfigurationState:
    if not configuration.enabled():
        return ConfigurationState(enabled=False)
    state = ConfigurationState(
        enabled=True,
        gateway_url=settings.FEDERATION_GATEWAY_URL,
        country=settings.FEDERATION_COUNTRY,
        countries=tuple(sorted(set(settings.FEDERATION_COUNTRIES) - {settings.FEDERATION_COUNTRY})),
        callback_url=settings.FEDERATION_CALLBACK_URL,
    )
    try:
        federation = configuration.load()
        certificates = tuple(configuration.certificates(federation))
    except (configuration.FederationMisconfigured, OSError, ValueError) as error:
        return replace(state, problem=str(error))
    return replace(state, certificates=certificates)


@dataclass
class CountryFigures:
    """Keys exchanged with one country over a period (daily counters added up)."""

    country: str
    shared: int = 0  # our keys the gateway stored that list this country as visited
    received: int = 0  # keys from this country kept for our exports
    invalid: int = 0  # from this country, verified, but not usable by phones
    refused: int = 0  # from this country, in parts that did not verify


@dataclass
class DayFigures:
    day: date
    shared: int = 0  # our keys the gateway stored (each once, whatever its countries)
    received: int = 0
    invalid: int = 0
    refused: int = 0
    parts_refused: int = 0  # parts of downloaded batches that did not verify


@dataclass
class ExchangeFigures:
    """Keys shared and received per day and per country, for the page and the dashboard."""

    since: date
    until: date
    days: list[DayFigures]
    countries: list[CountryFigures]
    # (day, country) -> figures of that country on that day
    by_day_and_country: dict[tuple[date, str], CountryFigures] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(
            day.shared or day.received or day.invalid or day.refused or day.parts_refused
            for day in self.days
        )

    def countries_on(self, day: date) -> list[CountryFigures]:
        """The countries with keys shared or received on `day`, by code."""
        return sorted(
            (
                cell
                for (cell_day, _country), cell in self.by_day_and_country.items()
                if cell_day == day and (cell.shared or cell.received)
            ),
            key=lambda cell: cell.country,
        )


# Counter -> (field of CountryFigures, counted per country?) and field of DayFigures.
_BY_COUNTRY = {
    metrics.KEYS_SHARED_WITH: "shared",
    metrics.KEYS_RECEIVED: "received",
    metrics.KEYS_INVALID: "invalid",
    metrics.KEYS_REFUSED: "refused",
}
_BY_DAY = {
    metrics.KEYS_SHARED: "shared",
    metrics.KEYS_RECEIVED: "received",
    metrics.KEYS_INVALID: "invalid",
    metrics.KEYS_REFUSED: "refused",
    metrics.CHUNKS_REFUSED: "parts_refused",
}


def exchange_figures(*, since: date, until: date) -> ExchangeFigures:
    """The federation's daily counters from `since` to `until` (inclusive), by day and country."""
    rows = (
        DailyCounter.objects.filter(
            day__gte=since, day__lte=until, metric__in=set(_BY_COUNTRY) | set(_BY_DAY)
        )
        .values_list("day", "metric", "bucket")
        .annotate(total=Sum("value"))
        .order_by()
    )
    days = {since + timedelta(days=n): DayFigures(since + timedelta(days=n))
            for n in range((until - since).days + 1)}  # fmt: skip
    countries: dict[str, CountryFigures] = {}
    cells: dict[tuple[date, str], CountryFigures] = defaultdict(lambda: CountryFigures(""))
    for day, metric, bucket, total in rows:
        if metric in _BY_DAY:
            figures = days[day]
            setattr(figures, _BY_DAY[metric], getattr(figures, _BY_DAY[metric]) + total)
        if metric in _BY_COUNTRY and bucket:
            name = _BY_COUNTRY[metric]
            country = countries.setdefault(bucket, CountryFigures(bucket))
            setattr(country, name, getattr(country, name) + total)
            cell = cells[(day, bucket)]
            cell.country = bucket
            setattr(cell, name, getattr(cell, name) + total)
    return ExchangeFigures(
        since=since,
        until=until,
        days=[days[day] for day in sorted(days)],
        countries=sorted(countries.values(), key=lambda figures: figures.country),
        by_day_and_country=dict(cells),
    )


def pending_uploads() -> QuerySet[OutboundBatch]:
    """Uploads whose answer is not known yet (sent again, under the same tag, by the next run)."""
    return OutboundBatch.objects.filter(status=OutboundBatch.Status.PENDING).order_by("created_at")
