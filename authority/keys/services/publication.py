"""How a batch is published: a run is requested, then executed exactly once. Read top-down.

1. `request_publication` records a queued run (one at a time) and, once committed, hands it
   to whoever runs it: a Celery worker (tasks/publishing.py), or the caller itself.
2. `run_publication` executes it, holding the publication lease: one `PublicationLock` row
   naming the run, with an expiry it renews as it works and a token that grows with every
   acquisition. Its steps, in order:
   a. load the signing keys (services/signing_keys.py): no key, no claim;
   b. in one transaction, claim the due keys for new *pending* batches
      (services/claims.py) and adopt pending batches left by a run whose worker died;
   c. outside any transaction, write each batch's file: stream its keys from the
      database, pad, sign, zip into a temporary file and store it under a name recorded
      on the batch first (services/batch_files.py);
   d. in one transaction, check the token is still the lock's and publish the batches:
      index numbers, status, counters (`commit_publication`). Phones only ever see
      published batches.

A worker killed anywhere leaves pending batches (never half-published ones); the next run
takes the lease once it expires, adopts them, rewrites their files and publishes them. A
run that lost its lease fails at its next write instead of publishing anything twice.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from authority.accounts.models import User
from authority.audit.models import Action
from authority.audit.services import record_event
from authority.formats.gaen.export import ExportMetadata, KeyRow
from authority.formats.gaen.signing import Signer, write_signed_export_zip_rows
from authority.keys import metrics
from authority.keys.models import Batch, PublicationLock, PublicationRun, interval_at
from authority.keys.selectors import active_publication
from authority.keys.services.batch_files import (
    BatchKeys,
    batch_storage,
    merged_in_key_order,
    padding_for,
    received_key_blocks,
    size_and_digest,
)
from authority.keys.services.claims import (
    BatchContents,
    arrival_window,
    batch_contents,
    claim_due_keys,
    end_of_last_window,
)
from authority.keys.services.received_claims import (
    claim_received_for_countries,
    claim_received_for_national,
    received_contents,
)
from authority.keys.services.signing_keys import signers_for_export
from authority.statistics.services import increment

logger = logging.getLogger(__name__)

# Progress (and the lease) is written every this many keys.
PROGRESS_EVERY_KEYS = 100_000
# A batch's file: its row's id (at least 8 digits, no other leading zeros) and the lease token
# of the run that wrote it (from 1).
_BATCH_FILE_NAME = re.compile(r"(?P<batch>[0-9]{8,})-[1-9][0-9]{0,18}\.zip")


def batch_file_name(*, batch_pk: int, token: int) -> str:
    """The name a batch's file is stored under: the only shape of name this application
    ever writes to the batch storage, at its top level."""
    return f"{batch_pk:08d}-{token}.zip"


def is_batch_file_name(name: str, *, batch_pk: int | None = None) -> bool:
    """Whether `name` has exactly the shape `batch_file_name` gives (of batch `batch_pk`, when
    given). The application deletes a stored file only when it passes: a name read from the
    database may have been written there by someone else, to get another file deleted (an
    audit checkpoint in the same storage, say)."""
    match = _BATCH_FILE_NAME.fullmatch(name)
    if match is None or f"{int(match['batch']):08d}" != match["batch"]:
        return False
    return batch_pk is None or int(match["batch"]) == batch_pk


class PublicationAlreadyRunning(Exception):
    """Only one publication at a time; `run` is the one in progress."""

    def __init__(self, run: PublicationRun) -> None:
        super().__init__(f"Publication run {run.pk} is in progress")
        self.run = run


class PublicationSuperseded(RuntimeError):
    """This run lost its lease (it stalled past the expiry) and another run took over."""


class PublicationBusy(RuntimeError):
    """Another execution of this same run still holds a live lease (a duplicate delivery)."""


# ---------------------------------------------------------------------------- requesting


def request_publication(
    *,
    requested_by: User | None,
    trigger: str,
    enqueue: Callable[[int], object] | None = None,
) -> PublicationRun:
    """Create a queued run; once it is committed, `enqueue(run id)` hands it to a worker.

    The web page passes the Celery task (tasks import services, never the other way round);
    without `enqueue` the caller runs it itself with run_publication. Raises
    PublicationAlreadyRunning while another run is queued or working.
    """
    with transaction.atomic():
        lock_publication()  # two presses at once: the second waits, then sees the first
        now = timezone.now()
        running = active_publication(now)
        if running is not None:
            raise PublicationAlreadyRunning(running)
        close_abandoned_runs(now)
        run = PublicationRun.objects.create(trigger=trigger, requested_by=requested_by)
        if requested_by is not None:
            record_event(
                action=Action.PUBLICATION_STARTED,
                actor=requested_by,
                target=f"publication run {run.pk}",
                details={"run": run.pk, "trigger": trigger},
            )
        if enqueue is not None:
            run_id = run.pk
            transaction.on_commit(lambda: enqueue(run_id))
    return run


# ---------------------------------------------------------------------------- running


def run_publication(*, run_id: int, worker: str = "") -> PublicationRun:
    """Publish every key that is due, for this run. Safe to call again for the same run."""
    run = PublicationRun.objects.get(pk=run_id)
    if run.status in (PublicationRun.Status.SUCCEEDED, PublicationRun.Status.SKIPPED):
        return run  # a duplicate delivery of a finished task
    token = _acquire_lease(run, worker)
    if token is None:
        return PublicationRun.objects.get(pk=run_id)
    publication = _Publication(run, token)
    try:
        publication.execute()
    except PublicationSuperseded:
        logger.warning("Publication run %s lost its lease to another run; stopped", run_id)
        raise
    except Exception as error:
        publication.fail(error)
        raise
    return PublicationRun.objects.get(pk=run_id)


def _acquire_lease(run: PublicationRun, worker: str) -> int | None:
    """Take the lease for `run` and return its token; None (run skipped) if another holds it."""
    with transaction.atomic():
        lock = lock_publication()
        now = timezone.now()
        if lock.run_id is not None and lock.expires_at is not None and lock.expires_at > now:
            if lock.run_id == run.pk:
                raise PublicationBusy(f"Publication run {run.pk} is already being executed")
            PublicationRun.objects.filter(pk=run.pk).update(
                status=PublicationRun.Status.SKIPPED,
                step=PublicationRun.Step.DONE,
                finished_at=now,
                message=f"Another publication (run {lock.run_id}) was running.",
            )
            return None
        if lock.run_id is not None and lock.run_id != run.pk:
            PublicationRun.objects.filter(
                pk=lock.run_id, status=PublicationRun.Status.RUNNING
            ).update(
                status=PublicationRun.Status.FAILED,
                finished_at=now,
                message=f"Interrupted: its worker stopped. Run {run.pk} completed its batches.",
            )
        lock.run = run
        lock.token += 1
        lock.expires_at = now + _lease()
        lock.save()
        PublicationRun.objects.filter(pk=run.pk).update(
            status=PublicationRun.Status.RUNNING,
            step=PublicationRun.Step.SELECTING,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            worker=worker[:200],
            message="",
        )
        return lock.token


@dataclass
class _Progress:
    keys_selected: int = 0
    keys_written: int = 0
    padding_keys: int = 0
    files_total: int = 0
    files_signed: int = 0
    files_written: int = 0


class _Publication:
    """One execution of a run, holding lease `token`."""

    def __init__(self, run: PublicationRun, token: int) -> None:
        self.run = run
        self.token = token
        self.storage = batch_storage()
        self.progress = _Progress()
        # Of the claimed keys, for the statistics when they are published: ours by region,
        # those received from the European gateway by series ("" national, else a country).
        self.keys_by_region: Counter[int] = Counter()
        self.received_by_series: Counter[str] = Counter()

    def execute(self) -> None:
        signers = signers_for_export()  # fail before claiming anything if no key can sign
        batches = self._claim_keys()
        self._report(step=PublicationRun.Step.WRITING)
        for batch in batches:
            self._write_file(batch, signers)
        self._report(step=PublicationRun.Step.PUBLISHING)
        commit_publication(
            run=self.run,
            token=self.token,
            batches=batches,
            keys_by_region=self.keys_by_region,
            received_by_series=self.received_by_series,
        )

    # -- claim the due keys (and adopt batches of interrupted runs)

    def _claim_keys(self) -> list[Batch]:
        claimed_at = timezone.now()
        cutoff = interval_at(claimed_at - timedelta(minutes=settings.KEYS_EMBARGO_MINUTES))
        with transaction.atomic():
            _fenced_lock(self.run, self.token)
            # Left by a run whose worker died (or by this run, delivered again): adopted.
            pending = list(
                Batch.objects.filter(status=Batch.Status.PENDING).values_list("pk", flat=True)
            )
            Batch.objects.filter(pk__in=pending).update(run=self.run)
            contents = batch_contents(pending) if pending else {}
            for batch_id, (keys, start, end) in received_contents(pending).items():
                contents.setdefault(batch_id, BatchContents()).add_received(
                    keys=keys, start=start, end=end
                )
            max_keys = settings.KEYS_MAX_PER_FILE
            ours = claim_due_keys(run=self.run, cutoff=cutoff, max_keys=max_keys)
            contents.update(ours)
            # Keys from the European gateway: beside ours, and in their countries' series.
            contents.update(
                claim_received_for_national(
                    run=self.run, now=claimed_at, new_batches=ours, max_keys=max_keys
                )
            )
            contents.update(
                claim_received_for_countries(run=self.run, now=claimed_at, max_keys=max_keys)
            )
            batches = []
            window_starts: dict[str, datetime | None] = {}
            for batch in Batch.objects.filter(run=self.run, status=Batch.Status.PENDING).order_by(
                "country", "pk"
            ):
                content = contents.get(batch.pk)
                if content is None:
                    batch.delete()  # nothing claimed for it
                    continue
                batch.key_count = content.keys
                if batch.period_end is None:  # new; an adopted batch keeps its window
                    if batch.country not in window_starts:
                        window_starts[batch.country] = end_of_last_window(batch.country)
                    batch.period_start, batch.period_end = arrival_window(
                        window_starts[batch.country], content, claimed_at
                    )
                batch.save(update_fields=["key_count", "period_start", "period_end"])
                self.keys_by_region.update(content.by_region)
                self.received_by_series[batch.country] += content.received
                batches.append(batch)
        self.progress.keys_selected = sum(batch.key_count for batch in batches)
        self.progress.files_total = len(batches)
        self._report()
        return batches

    # -- write each file (no transaction open: storage may be a network service)

    def _write_file(self, batch: Batch, signers: Sequence[Signer]) -> None:
        padding = padding_for(batch)
        assert batch.period_start is not None and batch.period_end is not None  # set by the claim
        metadata = ExportMetadata(
            start_timestamp=int(batch.period_start.timestamp()),
            end_timestamp=int(batch.period_end.timestamp()),
            region=settings.KEYS_EXPORT_REGION,
        )
        name = batch_file_name(batch_pk=batch.pk, token=self.token)
        with transaction.atomic():
            _fenced_lock(self.run, self.token)
            previous = Batch.objects.get(pk=batch.pk).file_name
            # Recorded before writing: if this worker dies, the next run finds the file.
            Batch.objects.filter(pk=batch.pk).update(file_name=name)
        if previous and previous != name:
            if is_batch_file_name(previous, batch_pk=batch.pk):
                self.storage.delete(previous)  # left by an interrupted attempt
            else:
                logger.error(
                    "Batch %d named the file %r, which is not one of its files: not deleted "
                    "(someone wrote the database?)",
                    batch.pk,
                    previous,
                )
        with BatchKeys(batch) as keys, tempfile.TemporaryFile() as spool:
            rows = merged_in_key_order(
                self._reporting(keys.blocks()),
                padding,
                received=self._reporting(received_key_blocks(batch)),
            )
            write_signed_export_zip_rows(spool, metadata, rows, signers)
            self.progress.keys_written += len(padding)
            self.progress.files_signed += 1
            self._report()
            size, digest = size_and_digest(spool)
            spool.seek(0)
            stored = self.storage.save(name, File(spool, name=name))
        if stored != name:
            raise RuntimeError(f"The batch storage saved {name} as {stored}")
        batch.file_name = name
        batch.padding_count = len(padding)
        batch.size = size
        batch.sha256 = digest
        batch.signing_key_versions = ",".join(
            info.verification_key_version for info, _key in signers
        )
        with transaction.atomic():
            _fenced_lock(self.run, self.token)
            batch.save(
                update_fields=[
                    "file_name",
                    "padding_count",
                    "size",
                    "sha256",
                    "signing_key_versions",
                ]
            )
        self.progress.padding_keys += len(padding)
        self.progress.files_written += 1
        self._report()

    def _reporting(self, blocks: Iterator[list[KeyRow]]) -> Iterator[list[KeyRow]]:
        """The blocks, with progress reported (and the lease renewed) as they go by."""
        reported = self.progress.keys_written
        for block in blocks:
            yield block
            self.progress.keys_written += len(block)
            if self.progress.keys_written - reported >= PROGRESS_EVERY_KEYS:
                reported = self.progress.keys_written
                self._report()

    # -- progress, lease and failure

    def _report(self, **fields: Any) -> None:
        """Save progress for the page and renew the lease; PublicationSuperseded if it was lost."""
        now = timezone.now()
        renewed = PublicationLock.objects.filter(pk=1, run=self.run, token=self.token).update(
            expires_at=now + _lease()
        )
        if not renewed:
            raise PublicationSuperseded(f"Publication run {self.run.pk} no longer holds the lease")
        values = {
            "keys_selected": self.progress.keys_selected,
            "keys_written": self.progress.keys_written,
            "padding_keys": self.progress.padding_keys,
            "files_total": self.progress.files_total,
            "files_signed": self.progress.files_signed,
            "files_written": self.progress.files_written,
            **fields,
        }
        PublicationRun.objects.filter(pk=self.run.pk).update(heartbeat_at=now, **values)

    def fail(self, error: Exception) -> None:
        """Record the error and free the lease at once; pending batches wait for the next run."""
        logger.exception("Publication run %s failed", self.run.pk)
        now = timezone.now()
        with transaction.atomic():
            lock = lock_publication()
            if lock.run_id != self.run.pk or lock.token != self.token:
                return  # another run owns the lease (and this run's batches) now
            lock.run = None
            lock.expires_at = None
            lock.save()
            PublicationRun.objects.filter(pk=self.run.pk).update(
                status=PublicationRun.Status.FAILED,
                finished_at=now,
                message=f"{type(error).__name__}: {error}"[:2000],
            )
            _audit_finished(self.run, outcome="failed", details={"error": type(error).__name__})


def commit_publication(
    *,
    run: PublicationRun,
    token: int,
    batches: Sequence[Batch],
    keys_by_region: Mapping[int, int],
    received_by_series: Mapping[str, int] | None = None,
) -> None:
    """The last step: make the run's written batches visible to phones, all or none, then
    free the lease.

    Each batch gets the next number of its series (the national one, or a country's).
    `keys_by_region` counts the batches' own keys by region, `received_by_series` the keys
    received from the European gateway by series (as claimed: claims never change).
    """
    with transaction.atomic():
        lock = _fenced_lock(run, token)
        now = timezone.now()
        numbers: dict[str, list[int]] = {}
        for batch in batches:
            series = numbers.get(batch.country)
            if series is None:
                newest = Batch.objects.filter(country=batch.country).aggregate(newest=Max("index"))[
                    "newest"
                ]
                series = numbers[batch.country] = [newest or 0]
            series.append(series[-1] + 1)
            updated = Batch.objects.filter(
                pk=batch.pk, run=run, status=Batch.Status.PENDING
            ).update(status=Batch.Status.PUBLISHED, index=series[-1], published_at=now)
            if updated != 1:
                raise PublicationSuperseded(
                    f"Batch {batch.pk} is no longer pending for run {run.pk}"
                )
        national = [batch.pk for batch in batches if not batch.country]
        padding = sum(Batch.objects.filter(pk__in=national).values_list("padding_count", flat=True))
        for region_id, count in sorted(keys_by_region.items()):
            increment(metrics.KEYS_PUBLISHED, region_id=region_id, amount=count)
        received = {name: count for name, count in (received_by_series or {}).items() if count}
        for name, count in sorted(received.items()):
            increment(metrics.RECEIVED_KEYS_PUBLISHED, bucket=name, amount=count)
        if national:
            increment(metrics.BATCHES_PUBLISHED, amount=len(national))
            if padding:
                increment(metrics.PADDING_KEYS_PUBLISHED, amount=padding)
        for country, indexes in sorted(numbers.items()):
            if country:
                increment(
                    metrics.COUNTRY_BATCHES_PUBLISHED, bucket=country, amount=len(indexes) - 1
                )
        PublicationRun.objects.filter(pk=run.pk).update(
            status=PublicationRun.Status.SUCCEEDED,
            step=PublicationRun.Step.DONE,
            finished_at=now,
            heartbeat_at=now,
            files_published=len(batches),
        )
        lock.run = None
        lock.expires_at = None
        lock.save()
        if batches or run.requested_by_id is not None:
            national_indexes = numbers.get("", [0])[1:]
            details: dict[str, Any] = {
                "batches": [national_indexes[0], national_indexes[-1]] if national_indexes else [],
                "keys": sum(batch.key_count for batch in batches),
                "padding_keys": padding,
            }
            countries = {
                country: [indexes[1], indexes[-1]]
                for country, indexes in numbers.items()
                if country
            }
            if countries or received:
                details["country_batches"] = countries
                details["received_keys"] = sum(received.values())
            _audit_finished(run, outcome="succeeded", details=details)


def _audit_finished(run: PublicationRun, *, outcome: str, details: dict[str, Any]) -> None:
    record_event(
        action=Action.PUBLICATION_FINISHED,
        actor=run.requested_by,
        actor_username="" if run.requested_by_id else "scheduler",
        target=f"publication run {run.pk}",
        details={"run": run.pk, "trigger": run.trigger, "outcome": outcome, **details},
    )


# ---------------------------------------------------------------------------- the lock row


def lock_publication() -> PublicationLock:
    """The lock row, locked until the surrounding transaction ends (created on first use).

    Claims are made holding it; retention holds it too, so that no claim appears for a key
    it is deleting.
    """
    lock = PublicationLock.objects.select_for_update().filter(pk=1).first()
    if lock is None:
        try:
            with transaction.atomic():
                PublicationLock.objects.create(pk=1)
        except IntegrityError:
            pass  # created by a concurrent first publication
        lock = PublicationLock.objects.select_for_update().get(pk=1)
    return lock


def _fenced_lock(run: PublicationRun, token: int) -> PublicationLock:
    """Inside a transaction: the lock row, if this run still holds it; else PublicationSuperseded."""
    lock = lock_publication()
    if lock.run_id != run.pk or lock.token != token:
        raise PublicationSuperseded(f"Publication run {run.pk} no longer holds the lease")
    return lock


def _lease() -> timedelta:
    return timedelta(seconds=settings.PUBLICATION_LEASE_SECONDS)


def close_abandoned_runs(now: datetime) -> None:
    """Runs that will never finish: queued with no worker, or running on a worker that died."""
    live = active_publication(now)
    abandoned = PublicationRun.objects.filter(
        status__in=[PublicationRun.Status.QUEUED, PublicationRun.Status.RUNNING]
    )
    if live is not None:
        abandoned = abandoned.exclude(pk=live.pk)
    abandoned.filter(status=PublicationRun.Status.QUEUED).update(
        status=PublicationRun.Status.FAILED,
        finished_at=now,
        message="Never started: no Celery worker took the task.",
    )
    abandoned.filter(status=PublicationRun.Status.RUNNING).update(
        status=PublicationRun.Status.FAILED,
        finished_at=now,
        message="Interrupted: its worker stopped. The next run completes its batches.",
    )
