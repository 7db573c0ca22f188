"""Retention (DESIGN.md 3.8): old keys deleted, old batches out of the index, then their files."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction
from django.utils import timezone

from authority.keys.models import INTERVALS_PER_DAY, Batch, ClaimedKey, ExposureKey, interval_at
from authority.keys.planning import hash_joins_only
from authority.keys.selectors import retired_file_grace
from authority.keys.services.batch_files import batch_storage
from authority.keys.services.publication import (
    close_abandoned_runs,
    is_batch_file_name,
    lock_publication,
)

logger = logging.getLogger(__name__)

# Stray files younger than this may belong to a run that is writing them right now.
ORPHAN_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class RetentionReport:
    keys_deleted: int
    batches_retired: int
    files_deleted: int


def apply_retention(*, now: datetime | None = None) -> RetentionReport:
    """Delete keys 14 days after their validity, take old batches out of the index and,
    once no cached index can name them any more, delete their files.

    Keys claimed by a pending batch stay until it is published, so a file never lacks them;
    a deleted key's claim goes with it.
    """
    now = now or timezone.now()
    key_cutoff = interval_at(now) - settings.KEYS_RETENTION_DAYS * INTERVALS_PER_DAY
    with transaction.atomic(), hash_joins_only():
        # Claims are made holding this lock: none can appear for a key we are deleting.
        lock_publication()
        old_keys = ExposureKey.objects.filter(rolling_end_interval_number__lt=key_cutoff).exclude(
            batch__status=Batch.Status.PENDING
        )
        ClaimedKey.objects.filter(key__in=old_keys.values("pk")).delete()
        keys_deleted, _ = old_keys.delete()
    storage = batch_storage()
    files_deleted = 0
    retired = 0
    expired = Batch.objects.filter(
        status=Batch.Status.PUBLISHED,
        published_at__lt=now - timedelta(days=settings.BATCH_RETENTION_DAYS),
    ).order_by("index")
    for batch in expired:
        if Batch.objects.filter(pk=batch.pk, status=Batch.Status.PUBLISHED).update(
            status=Batch.Status.RETIRED, retired_at=now
        ):
            retired += 1
    # Out of the index first; the file goes at a later run, once no index a phone or a cache
    # may still hold names it (it is served until then: selectors.downloadable_batch).
    gone = Batch.objects.filter(
        status=Batch.Status.RETIRED, retired_at__lt=now - retired_file_grace()
    ).exclude(file_name="")
    for batch in gone:
        # Only a name of the one shape publication writes, of this very batch: a name read
        # from the database may have been put there to get another file deleted (an audit
        # checkpoint in the same storage, say).
        if not is_batch_file_name(batch.file_name, batch_pk=batch.pk):
            logger.error(
                "Retired batch %d names the file %r, which is not one of its files: not "
                "deleted (someone wrote the database?)",
                batch.pk,
                batch.file_name,
            )
        elif storage.exists(batch.file_name):
            storage.delete(batch.file_name)
            files_deleted += 1
        Batch.objects.filter(pk=batch.pk).update(file_name="")
    files_deleted += _delete_stray_files(storage, now)
    with transaction.atomic():
        lock_publication()
        close_abandoned_runs(now)
    return RetentionReport(
        keys_deleted=keys_deleted, batches_retired=retired, files_deleted=files_deleted
    )


def _delete_stray_files(storage: Storage, now: datetime) -> int:
    """Batch files no batch names (a retired batch's is deleted above, after its grace): left
    by stalled runs, or by an interrupted deletion. Only top-level names of the shape
    publication writes: nothing else in the storage is ever the application's to delete."""
    try:
        _dirs, names = storage.listdir("")
    except FileNotFoundError:
        return 0
    kept = set(
        Batch.objects.exclude(file_name="").values_list("file_name", flat=True)
    )  # pending, published, or retired and still served
    deleted = 0
    for name in names:
        if not is_batch_file_name(name) or name in kept:
            continue
        if storage.get_modified_time(name) > now - ORPHAN_GRACE:
            continue
        storage.delete(name)
        deleted += 1
    return deleted
