"""Reads about batches, runs and signing keys, for the pages, the download API and the services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from authority.formats.gaen.signing import PublicKey, load_public_key_pem
from authority.keys.models import Batch, ExposureKey, PublicationLock, PublicationRun, SigningKey
from authority.keys.planning import hash_joins_only


def published_batches(country: str = "") -> QuerySet[Batch]:
    """An index: what phones can download, oldest first. The national series by default; a
    country's code for the keys received for it (/v1/keys/eu/{country})."""
    return Batch.objects.filter(country=country, status=Batch.Status.PUBLISHED).order_by("index")


def index_range(country: str = "") -> tuple[int, int] | None:
    """(oldest, newest) index numbers of a series' published batches, or None when there is none."""
    bounds = published_batches(country).aggregate(oldest=Min("index"), newest=Max("index"))
    if bounds["oldest"] is None:
        return None
    return bounds["oldest"], bounds["newest"]


def retired_file_grace() -> timedelta:
    """How long a batch's file is still served after the batch left the index: phones and
    caches may hold an index from before (KEYS_INDEX_MAX_AGE) that still names it."""
    return max(timedelta(hours=1), 2 * timedelta(seconds=settings.KEYS_INDEX_MAX_AGE))


def downloadable_batch(index: int, now: datetime | None = None, country: str = "") -> Batch | None:
    """The batch a phone may download under this number of a series: in the index, or out of
    it for less than retired_file_grace()."""
    since = (now or timezone.now()) - retired_file_grace()
    return (
        Batch.objects.filter(country=country, index=index)
        .filter(
            Q(status=Batch.Status.PUBLISHED) | Q(status=Batch.Status.RETIRED, retired_at__gte=since)
        )
        .exclude(file_name="")
        .first()
    )


def batch_history() -> QuerySet[Batch]:
    """Every batch that reached an index (every series), newest first, for the operators' history."""
    return (
        Batch.objects.exclude(status=Batch.Status.PENDING)
        .select_related("run")
        .order_by("-published_at", "country", "-index")
    )


def unpublished_key_count() -> int:
    """Stored keys that no batch has claimed yet: an anti-join over every stored key."""
    with hash_joins_only():
        return ExposureKey.objects.filter(batch__isnull=True).count()


def latest_run() -> PublicationRun | None:
    return (
        PublicationRun.objects.select_related("requested_by").order_by("-created_at", "-id").first()
    )


def active_publication(now: datetime | None = None) -> PublicationRun | None:
    """The run holding a live lease, else one queued recently and not started yet."""
    now = now or timezone.now()
    lock = PublicationLock.objects.select_related("run").filter(pk=1).first()
    if lock is not None and lock.run is not None and lock.expires_at and lock.expires_at > now:
        return lock.run
    queued_since = now - timedelta(minutes=settings.PUBLICATION_QUEUE_TIMEOUT_MINUTES)
    return (
        PublicationRun.objects.filter(
            status=PublicationRun.Status.QUEUED, created_at__gte=queued_since
        )
        .order_by("-created_at")
        .first()
    )


def active_signing_keys() -> QuerySet[SigningKey]:
    """The keys not retired, newest first; the newest ten sign new files (the format's limit).

    `.first()` is the newest: the one the dashboard shows and public-key.pem serves.
    """
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
        for recorded in Batch.objects.filter(status=Batch.Status.PUBLISHED)  # every series
        .order_by()
        .values_list("signing_key_versions", flat=True)
        .distinct()
        for version in recorded.split(",")
        if version
    }
    return SigningKey.objects.filter(Q(retired_at=None) | Q(version__in=versions)).order_by(
        "-created_at", "-id"
    )


def public_keys_by_version() -> dict[tuple[str, str], PublicKey]:
    """Every key ever used, retired ones included, for checking files already published."""
    return {
        (key.key_id, key.version): load_public_key_pem(key.public_key_pem.encode())
        for key in SigningKey.objects.only("key_id", "version", "public_key_pem")
    }
