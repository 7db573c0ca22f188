"""Reads of the federation's data: what the publication takes from it, and what the operators' page shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from authority.federation.models import FederationRun, InboundChunk, OutboundBatch, ReceivedKey

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
    return FederationRun.objects.order_by("-started_at", "-id")[:limit]


def refused_chunks(*, limit: int = 50) -> QuerySet[InboundChunk]:
    return (
        InboundChunk.objects.filter(verified=False)
        .select_related("batch")
        .order_by("-batch__downloaded_at", "position")[:limit]
    )


def pending_uploads() -> QuerySet[OutboundBatch]:
    """Uploads whose answer is not known yet (sent again, under the same tag, by the next run)."""
    return OutboundBatch.objects.filter(status=OutboundBatch.Status.PENDING).order_by("created_at")
