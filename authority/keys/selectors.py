"""Reads about batches, runs and signing keys, for the pages and the download API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from authority.keys.models import Batch, ExposureKey, PublicationRun, SigningKey
from authority.keys.planning import hash_joins_only


def published_batches() -> QuerySet[Batch]:
    """The index: what phones can download, oldest first."""
    return Batch.objects.filter(status=Batch.Status.PUBLISHED).order_by("index")


def index_range() -> tuple[int, int] | None:
    """(oldest, newest) index numbers of the published batches, or None when there is none."""
    bounds = published_batches().aggregate(oldest=Min("index"), newest=Max("index"))
    if bounds["oldest"] is None:
        return None
    return bounds["oldest"], bounds["newest"]


def retired_file_grace() -> timedelta:
    """How long a batch's file is still served after the batch left the index: phones and
    caches may hold an index from before (KEYS_INDEX_MAX_AGE) that still names it."""
    return max(timedelta(hours=1), 2 * timedelta(seconds=settings.KEYS_INDEX_MAX_AGE))


def downloadable_batch(index: int, now: datetime | None = None) -> Batch | None:
    """The batch a phone may download under this number: in the index, or out of it for
    less than retired_file_grace()."""
    since = (now or timezone.now()) - retired_file_grace()
    return (
        Batch.objects.filter(index=index)
        .filter(
            Q(status=Batch.Status.PUBLISHED) | Q(status=Batch.Status.RETIRED, retired_at__gte=since)
        )
        .exclude(file_name="")
        .first()
    )


def batch_history() -> QuerySet[Batch]:
    """Every batch that reached the index, newest first, for the operators' history."""
    return (
        Batch.objects.exclude(status=Batch.Status.PENDING).select_related("run").order_by("-index")
    )


def unpublished_key_count() -> int:
    """Stored keys that no batch has claimed yet: an anti-join over every stored key."""
    with hash_joins_only():
        return ExposureKey.objects.filter(batch__isnull=True).count()


def latest_run() -> PublicationRun | None:
    return (
        PublicationRun.objects.select_related("requested_by").order_by("-created_at", "-id").first()
    )


def active_signing_keys() -> QuerySet[SigningKey]:
    return SigningKey.objects.filter(retired_at=None).order_by("-created_at", "-id")


def run_progress(run: PublicationRun) -> dict[str, Any]:
    """What the publication page polls: status, step and counters of one run."""
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "step": run.step,
        "step_label": str(run.get_step_display()),
        "finished": run.is_finished,
        "keys_selected": run.keys_selected,
        "keys_written": run.keys_written,
        "padding_keys": run.padding_keys,
        "files_total": run.files_total,
        "files_signed": run.files_signed,
        "files_written": run.files_written,
        "files_published": run.files_published,
        "message": run.message,
    }


def retired_signing_keys() -> QuerySet[SigningKey]:
    return SigningKey.objects.exclude(retired_at=None).order_by("-created_at", "-id")


def verifying_signing_keys() -> QuerySet[SigningKey]:
    """The keys phones need, newest first: the active ones, which sign new files, and every
    key, retired or not, that signed a batch still in the index.

    Batches record only the versions of their keys (`signing_key_versions`, "v2,v1"): should
    two key ids share a version, both are listed, which costs a public key too many, never
    one too few.
    """
    versions = {
        version
        for recorded in published_batches()
        .order_by()
        .values_list("signing_key_versions", flat=True)
        .distinct()
        for version in recorded.split(",")
        if version
    }
    return SigningKey.objects.filter(Q(retired_at=None) | Q(version__in=versions)).order_by(
        "-created_at", "-id"
    )
