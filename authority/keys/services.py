"""Storing uploaded keys, publishing them exactly once in signed batches, and retention.

How a publication stays exactly-once (DESIGN.md 5, STYLE.md rule 5):

1. A run takes the publication lease: one `PublicationLock` row naming the run, with an
   expiry it renews as it works and a token that grows with every acquisition.
2. In one transaction it claims the due keys for new *pending* batches, one narrow
   ClaimedKey row per key (key rows are never rewritten), and adopts pending batches left
   by a run whose worker died.
3. Outside any transaction it streams each batch's keys from the database, signs and zips
   them into a temporary file and stores the file under a name recorded on the batch first.
4. In one transaction it checks its token is still the lock's and publishes the batches:
   index numbers, status, counters. Phones only ever see published batches.

A worker killed anywhere leaves pending batches (never half-published ones); the next run
takes the lease once it expires, adopts them, rewrites their files and publishes them. A
run that lost its lease fails at its next write instead of publishing anything twice.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import secrets
import tempfile
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain, islice
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, connections, router, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Value,
    When,
)
from django.db.models.query import QuerySet
from django.utils import timezone

from authority.audit.models import Action
from authority.audit.services import record_event
from authority.formats.gaen.export import ExportFormatError, ExportMetadata, KeyRow
from authority.formats.gaen.signing import Signer, verify_export_zip, write_signed_export_zip_rows
from authority.keys import metrics
from authority.keys.models import (
    INTERVAL_SECONDS,
    INTERVALS_PER_DAY,
    Batch,
    ClaimedKey,
    ExposureKey,
    PublicationLock,
    PublicationRun,
    ReportType,
    interval_to_datetime,
)
from authority.keys.planning import hash_joins_only, with_no_nested_loops
from authority.keys.selectors import retired_file_grace
from authority.keys.signing import public_keys_by_version, signers_for_export
from authority.statistics.services import increment

if TYPE_CHECKING:
    from authority.accounts.models import User

logger = logging.getLogger(__name__)

# Rows fetched per round trip while streaming a batch's keys.
STREAM_CHUNK_SIZE = 5000
# Progress (and the lease) is written every this many keys.
PROGRESS_EVERY_KEYS = 100_000
# The columns of a KeyRow (authority.formats.gaen.export), in its order.
_KEY_FIELDS = (
    "key_data",
    "rolling_start_interval_number",
    "rolling_period",
    "transmission_risk_level",
    "report_type",
    "days_since_onset_of_symptoms",
)
# Stray files younger than this may belong to a run that is writing them right now.
ORPHAN_GRACE = timedelta(days=1)


def batch_storage() -> Storage:
    return storages["batches"]


def current_interval(moment: datetime) -> int:
    return int(moment.timestamp()) // INTERVAL_SECONDS


# ---------------------------------------------------------------------------- storing keys


@dataclass(frozen=True, slots=True)
class UploadedKey:
    """A key as the device API validated it (DESIGN.md 7)."""

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int = 144
    transmission_risk_level: int | None = None
    report_type: int = ReportType.CONFIRMED_TEST


def key_day(rolling_start_interval_number: int) -> date:
    """The UTC day a key belongs to (GAEN intervals start at midnight UTC)."""
    return interval_to_datetime(rolling_start_interval_number).date()


def store_uploaded_keys(
    *, keys: Sequence[UploadedKey], region_id: int, onset_date: date | None, uploaded_on: date
) -> int:
    """Store one upload's keys for publication; return how many were new.

    days_since_onset_of_symptoms is the key's day minus the onset date. A key already stored
    (same key_data and interval) is skipped, so a repeated upload stores nothing twice.
    Nothing about the upload itself is kept: only the count, on the day's counter.

    One INSERT ... ON CONFLICT DO NOTHING (PostgreSQL and SQLite), whose row count says how
    many keys were new: no read first, no savepoint, whatever the concurrent uploads do.
    """
    rows: dict[tuple[bytes, int], ExposureKey] = {}
    for key in keys:
        identity = (bytes(key.key_data), key.rolling_start_interval_number)
        if identity in rows:
            continue
        rows[identity] = ExposureKey(
            key_data=identity[0],
            rolling_start_interval_number=key.rolling_start_interval_number,
            rolling_period=key.rolling_period,
            rolling_end_interval_number=key.rolling_start_interval_number + key.rolling_period,
            transmission_risk_level=key.transmission_risk_level,
            report_type=key.report_type,
            days_since_onset_of_symptoms=None
            if onset_date is None
            else (key_day(key.rolling_start_interval_number) - onset_date).days,
            region_id=region_id,
        )
    if not rows:
        return 0
    with transaction.atomic(savepoint=False):
        stored = _insert_new_keys(list(rows.values()))
        if stored:
            increment(metrics.KEYS_STORED, region_id=region_id, amount=stored, day=uploaded_on)
    return stored


def _insert_new_keys(rows: list[ExposureKey]) -> int:
    """INSERT the rows, skipping those already stored; how many were inserted.

    On PostgreSQL each column travels as one array parameter (`unnest`), so the statement's
    text is the same for every upload: psycopg parses it once and prepares it on the server,
    instead of a statement of a different length for each number of keys.
    """
    connection = connections[router.db_for_write(ExposureKey)]
    fields = list(ExposureKey._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    table = quote(ExposureKey._meta.db_table)
    values = [
        [field.get_db_prep_save(field.pre_save(row, add=True), connection) for row in rows]
        for field in fields
    ]
    # Only names and types from the model, and placeholders: the values travel as parameters.
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"  # noqa: S608
        )
        params = values
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(rows))} ON CONFLICT DO NOTHING"  # noqa: S608
        params = [value for row_values in zip(*values, strict=True) for value in row_values]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# ---------------------------------------------------------------------------- requesting


class PublicationAlreadyRunning(Exception):
    """Only one publication at a time; `run` is the one in progress."""

    def __init__(self, run: PublicationRun) -> None:
        super().__init__(f"Publication run {run.pk} is in progress")
        self.run = run


class PublicationSuperseded(RuntimeError):
    """This run lost its lease (it stalled past the expiry) and another run took over."""


class PublicationBusy(RuntimeError):
    """Another execution of this same run still holds a live lease (a duplicate delivery)."""


def _lease() -> timedelta:
    return timedelta(seconds=settings.PUBLICATION_LEASE_SECONDS)


def _lock_for_update() -> PublicationLock:
    """The lock row, locked until the surrounding transaction ends (created on first use)."""
    lock = PublicationLock.objects.select_for_update().filter(pk=1).first()
    if lock is None:
        try:
            with transaction.atomic():
                PublicationLock.objects.create(pk=1)
        except IntegrityError:
            pass  # created by a concurrent first publication
        lock = PublicationLock.objects.select_for_update().get(pk=1)
    return lock


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


def _close_abandoned_runs(now: datetime) -> None:
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


def request_publication(
    *, requested_by: User | None, trigger: str, enqueue: bool = True
) -> PublicationRun:
    """Create a queued run and (after commit) hand it to a worker.

    Raises PublicationAlreadyRunning while another run is queued or working.
    """
    with transaction.atomic():
        _lock_for_update()  # two presses at once: the second waits, then sees the first
        now = timezone.now()
        running = active_publication(now)
        if running is not None:
            raise PublicationAlreadyRunning(running)
        _close_abandoned_runs(now)
        run = PublicationRun.objects.create(trigger=trigger, requested_by=requested_by)
        if requested_by is not None:
            record_event(
                action=Action.PUBLICATION_STARTED,
                actor=requested_by,
                target=f"publication run {run.pk}",
                details={"run": run.pk, "trigger": trigger},
            )
        if enqueue:
            run_id = run.pk
            transaction.on_commit(lambda: _enqueue(run_id))
    return run


def _enqueue(run_id: int) -> None:
    from tasks.publishing import publish_keys  # tasks import services, not the other way round

    publish_keys.delay(run_id)


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
        lock = _lock_for_update()
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


def _fenced_lock(run: PublicationRun, token: int) -> PublicationLock:
    """Inside a transaction: the lock row, if this run still holds it; else PublicationSuperseded."""
    lock = _lock_for_update()
    if lock.run_id != run.pk or lock.token != token:
        raise PublicationSuperseded(f"Publication run {run.pk} no longer holds the lease")
    return lock


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
        # Of the claimed keys, for the statistics when they are published.
        self.keys_by_region: Counter[int] = Counter()

    def execute(self) -> None:
        signers = signers_for_export()  # fail before claiming anything if no key can sign
        batches = self._claim_keys()
        self._report(step=PublicationRun.Step.WRITING)
        for batch in batches:
            self._write_file(batch, signers)
        self._report(step=PublicationRun.Step.PUBLISHING)
        commit_publication(
            run=self.run, token=self.token, batches=batches, keys_by_region=self.keys_by_region
        )

    # -- phase 1: claim the due keys (and adopt batches of interrupted runs)

    def _claim_keys(self) -> list[Batch]:
        claimed_at = timezone.now()
        cutoff = current_interval(claimed_at - timedelta(minutes=settings.KEYS_EMBARGO_MINUTES))
        with transaction.atomic():
            _fenced_lock(self.run, self.token)
            # Left by a run whose worker died (or by this run, delivered again): adopted.
            pending = list(
                Batch.objects.filter(status=Batch.Status.PENDING).values_list("pk", flat=True)
            )
            Batch.objects.filter(pk__in=pending).update(run=self.run)
            contents = _batch_contents(pending) if pending else {}
            contents.update(
                _claim_due_keys(run=self.run, cutoff=cutoff, max_keys=settings.KEYS_MAX_PER_FILE)
            )
            batches = []
            window_start = _end_of_last_window()
            for batch in Batch.objects.filter(run=self.run, status=Batch.Status.PENDING).order_by(
                "pk"
            ):
                content = contents.get(batch.pk)
                if content is None:
                    batch.delete()  # nothing claimed for it
                    continue
                batch.key_count = content.keys
                if batch.period_end is None:  # new; an adopted batch keeps its window
                    batch.period_start, batch.period_end = _arrival_window(
                        window_start, content, claimed_at
                    )
                batch.save(update_fields=["key_count", "period_start", "period_end"])
                self.keys_by_region.update(content.by_region)
                batches.append(batch)
        self.progress.keys_selected = sum(batch.key_count for batch in batches)
        self.progress.files_total = len(batches)
        self._report()
        return batches

    # -- phase 2: write each file (no transaction open: storage may be a network service)

    def _write_file(self, batch: Batch, signers: Sequence[Signer]) -> None:
        padding = self._padding(batch)
        assert batch.period_start is not None and batch.period_end is not None  # set by the claim
        metadata = ExportMetadata(
            start_timestamp=int(batch.period_start.timestamp()),
            end_timestamp=int(batch.period_end.timestamp()),
            region=settings.KEYS_EXPORT_REGION,
        )
        name = f"{batch.pk:08d}-{self.token}.zip"
        with transaction.atomic():
            _fenced_lock(self.run, self.token)
            previous = Batch.objects.get(pk=batch.pk).file_name
            # Recorded before writing: if this worker dies, the next run finds the file.
            Batch.objects.filter(pk=batch.pk).update(file_name=name)
        if previous and previous != name:
            self.storage.delete(previous)  # left by an interrupted attempt
        with _BatchKeys(batch) as keys, tempfile.TemporaryFile() as spool:
            write_signed_export_zip_rows(spool, metadata, self._sorted_rows(keys, padding), signers)
            self.progress.keys_written += len(padding)
            self.progress.files_signed += 1
            self._report()
            size, digest = _size_and_digest(spool)
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

    def _padding(self, batch: Batch) -> list[KeyRow]:
        """Random keys copying the metadata of real ones, up to KEYS_MIN_PER_FILE, in key order."""
        missing = settings.KEYS_MIN_PER_FILE - batch.key_count
        if missing <= 0:
            return []
        # Fewer real keys than the minimum: their metadata fits in memory.
        templates = list(ExposureKey.objects.filter(batch=batch).values_list(*_KEY_FIELDS[1:]))
        chooser = secrets.SystemRandom()
        padding: list[KeyRow] = [
            (secrets.token_bytes(16), *chooser.choice(templates)) for _ in range(missing)
        ]
        padding.sort(key=itemgetter(0))
        return padding

    def _sorted_rows(self, keys: _BatchKeys, padding: list[KeyRow]) -> Iterator[KeyRow]:
        real = chain.from_iterable(self._reporting(keys.blocks()))  # no Python frame per row
        # Big files have no padding: no merge to pay for on every key.
        return heapq.merge(real, padding, key=itemgetter(0)) if padding else real

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
            lock = _lock_for_update()
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


class _BatchKeys:
    """A batch's keys in key order, as blocks of KeyRows; a context manager.

    On PostgreSQL, outside a transaction, they come through a connection of their own,
    streamed in chunks, in binary; the default connection stays free for the progress
    reports made meanwhile, and leaving the block closes the connection, even when a
    failure leaves the rows half read. Inside a transaction (tests) only the default
    connection sees what it claimed: its cursor is used, which holds the whole result.
    """

    def __init__(self, batch: Batch) -> None:
        query = (
            ExposureKey.objects.filter(claim__batch=batch)
            .order_by("key_data", "rolling_start_interval_number")
            .values_list(*_KEY_FIELDS)
        )
        self._sql, self._params = query.query.sql_with_params()
        self._connection = connections[router.db_for_read(ExposureKey)]
        self._own_connection: Any = None

    def __enter__(self) -> _BatchKeys:
        if self._connection.vendor == "postgresql" and not self._connection.in_atomic_block:
            # Its query joins the claims table: hash joins only (authority.keys.planning).
            params = with_no_nested_loops(self._connection.get_connection_params())
            self._own_connection = self._connection.get_new_connection(params)
            self._own_connection.autocommit = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._own_connection is not None:
            self._own_connection.close()

    def blocks(self) -> Iterator[list[KeyRow]]:
        if self._own_connection is None:
            with hash_joins_only(), self._connection.cursor() as cursor:
                cursor.execute(self._sql, self._params)
                while block := cursor.fetchmany(STREAM_CHUNK_SIZE):
                    yield block
            return
        import psycopg  # the PostgreSQL driver, there only

        # Django makes client-side binding cursors, which cannot return binary results.
        rows = psycopg.Cursor(self._own_connection).stream(
            self._sql, self._params, binary=True, size=STREAM_CHUNK_SIZE
        )
        while block := list(islice(rows, STREAM_CHUNK_SIZE)):
            yield block


@dataclass
class _Contents:
    """What a pending batch holds: how many keys, their validity span (intervals), regions."""

    keys: int = 0
    start: int = 0
    end: int = 0
    by_region: Counter[int] = field(default_factory=Counter)

    def add(self, *, region_id: int, keys: int, start: int, end: int) -> None:
        self.start = min(self.start, start) if self.keys else start
        self.end = max(self.end, end) if self.keys else end
        self.keys += keys
        self.by_region[region_id] += keys


def _batch_contents(batch_ids: Sequence[int]) -> dict[int, _Contents]:
    """The contents of these batches, by batch id (batches with no claimed key are left out)."""
    contents: dict[int, _Contents] = {}
    with hash_joins_only():
        rows = list(
            ClaimedKey.objects.filter(batch__in=batch_ids)
            .values_list("batch", "key__region")
            .annotate(
                keys=Count("*"),
                start=Min("key__rolling_start_interval_number"),
                end=Max("key__rolling_end_interval_number"),
            )
            .order_by()
        )
    for batch_id, region_id, keys, start, end in rows:
        contents.setdefault(batch_id, _Contents()).add(
            region_id=region_id, keys=keys, start=start, end=end
        )
    return contents


class _FirstByte(Func):
    """The first byte of a binary value, 0 to 255."""

    template = "get_byte(%(expressions)s, 0)"
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        # No get_byte: the values of the first two hex digits.
        digit = "(instr('0123456789ABCDEF', substr(hex(%(expressions)s), {}, 1)) - 1)"
        template = f"({digit.format(1)} * 16 + {digit.format(2)})"
        return super().as_sql(compiler, connection, template=template, **extra_context)


class _Overfilled(Exception):
    """A claim put more keys in a file than it may hold: undo it and claim the exact way."""


def _claim_due_keys(*, run: PublicationRun, cutoff: int, max_keys: int) -> dict[int, _Contents]:
    """Claim every due key that has no claim for new pending batches of `run`; their contents.

    Runs in the claim transaction, holding the publication lock: that, and taking only keys
    without a claim, is what makes each key claimed at most once. The database does the
    work in three statements, whatever the number of keys; no key passes through Python:

    1. one aggregate over the keys to claim, by first key byte and region, tells how many
       there are, and each file's contents once files are cut between byte values;
    2. files take consecutive first-byte ranges, each filled as far as KEYS_MAX_PER_FILE
       allows (random keys spread evenly over the 256 values): no sorting;
    3. one INSERT ... SELECT claims them all, each for the batch of its range.

    Keys uploaded between 1 and 3 are claimed too (the count differs): the contents are
    then read back from the claims. Should a file overflow (that, or one byte value
    holding more keys than a file), a savepoint undoes the claim and files are filled one
    after another, lowest key bytes first, sorting the due keys each time.
    """
    due = _unclaimed(ExposureKey.objects.filter(rolling_end_interval_number__lte=cutoff))
    with hash_joins_only():
        by_first_byte = list(
            due.annotate(first_byte=_FirstByte("key_data"))
            .values_list("first_byte", "region")
            .annotate(
                keys=Count("*"),
                start=Min("rolling_start_interval_number"),
                end=Max("rolling_end_interval_number"),
            )
            .order_by()
        )
        expected = sum(row[2] for row in by_first_byte)
        if expected == 0:
            return {}
        keys_per_byte: Counter[int] = Counter()
        for first_byte, _region, keys, _start, _end in by_first_byte:
            keys_per_byte[first_byte] += keys
        ranges = _fill_files(keys_per_byte, max_keys)
        if ranges is not None:
            try:
                with transaction.atomic():
                    batch_ids = [Batch.objects.create(run=run).pk for _ in ranges]
                    claimed = _insert_claims(due, _by_first_byte(batch_ids, ranges))
                    if claimed == expected:
                        contents = {batch_id: _Contents() for batch_id in batch_ids}
                        stops = [byte_range.stop for byte_range in ranges]
                        for first_byte, region_id, keys, start, end in by_first_byte:
                            batch_id = batch_ids[bisect_right(stops, first_byte)]
                            contents[batch_id].add(
                                region_id=region_id, keys=keys, start=start, end=end
                            )
                        return contents
                    contents = _batch_contents(batch_ids)  # uploads arrived meanwhile
                    if any(content.keys > max_keys for content in contents.values()):
                        raise _Overfilled
                    return contents
            except _Overfilled:
                pass
        filled = []
        while True:
            batch = Batch.objects.create(run=run)
            claimed = _insert_claims(
                due.order_by("key_data", "rolling_start_interval_number")[:max_keys],
                Value(batch.pk, output_field=BigIntegerField()),
            )
            filled.append(batch.pk)
            if claimed < max_keys:
                return _batch_contents(filled)


def _end_of_last_window() -> datetime | None:
    """Where the last published file's arrival window ended (retired files count too)."""
    return (
        Batch.objects.filter(status__in=[Batch.Status.PUBLISHED, Batch.Status.RETIRED])
        .aggregate(end=Max("period_end"))
        .get("end")
    )


def _arrival_window(
    start: datetime | None, content: _Contents, claimed_at: datetime
) -> tuple[datetime, datetime]:
    """A file's time window, as GAEN defines it: when its keys arrived at the server.

    No arrival time is stored (it would link the keys of one upload, DESIGN.md 3.4), but
    the claim bounds it: every key claimed now arrived before now and, except the ones held
    back while still valid, after the previous claim. So a file covers the time since the
    last published file's window (or, for the first file, since its oldest key began to be
    valid) until its claim: consecutive publications never carry the same header.
    """
    if start is None or start >= claimed_at:
        start = min(interval_to_datetime(content.start), claimed_at)
    return start, claimed_at


def _unclaimed(keys: QuerySet[ExposureKey]) -> QuerySet[ExposureKey]:
    return keys.filter(~Exists(ClaimedKey.objects.filter(key=OuterRef("pk"))))


def _fill_files(keys_per_byte: Mapping[int, int], max_keys: int) -> list[range] | None:
    """Consecutive ranges of first-byte values, as few as hold at most `max_keys` keys each.

    None when one byte value alone has more keys than a file may hold.
    """
    ranges = []
    first = count = 0
    for byte in range(256):
        keys = keys_per_byte.get(byte, 0)
        if keys > max_keys:
            return None
        if count + keys > max_keys:
            ranges.append(range(first, byte))
            first, count = byte, 0
        count += keys
    ranges.append(range(first, 256))
    return ranges


def _by_first_byte(batch_ids: Sequence[int], ranges: Sequence[range]) -> Case | Value:
    """The batch of a key, when batch i takes the keys whose first byte is in ranges[i]."""
    if len(batch_ids) == 1:
        return Value(batch_ids[0], output_field=BigIntegerField())
    # A 16-byte key is below the one byte b exactly when its first byte is below b.
    whens = [
        When(key_data__lt=bytes([byte_range.stop]), then=Value(batch_id))
        for batch_id, byte_range in zip(batch_ids[:-1], ranges, strict=False)
    ]
    return Case(*whens, default=Value(batch_ids[-1]), output_field=BigIntegerField())


def _insert_claims(keys: QuerySet[ExposureKey], batch: Case | Value) -> int:
    """INSERT INTO the claims SELECT the keys' ids with `batch` (an expression); how many."""
    select = keys.annotate(claim_batch=batch).values_list("pk", "claim_batch")
    sql, params = select.query.sql_with_params()
    connection = connections[router.db_for_write(ClaimedKey)]
    quote = connection.ops.quote_name
    table = quote(ClaimedKey._meta.db_table)
    key_column = quote(ClaimedKey._meta.get_field("key").column)
    batch_column = quote(ClaimedKey._meta.get_field("batch").column)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({key_column}, {batch_column}) {sql}", params)
        claimed: int = cursor.rowcount
        if connection.vendor == "postgresql" and claimed:
            # Statistics for the queries that follow (this transaction's, then the file's):
            # planned for an empty table they would probe keys one by one.
            cursor.execute(f"ANALYZE {table}")
    return claimed


def _size_and_digest(spool: IO[bytes]) -> tuple[int, str]:
    spool.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := spool.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def commit_publication(
    *,
    run: PublicationRun,
    token: int,
    batches: Sequence[Batch],
    keys_by_region: Mapping[int, int],
) -> None:
    """Phase 4: make the run's written batches visible to phones, all or none, then free the lease.

    `keys_by_region` counts the batches' keys by region (as claimed: claims never change).
    """
    with transaction.atomic():
        lock = _fenced_lock(run, token)
        now = timezone.now()
        number = Batch.objects.aggregate(newest=Max("index"))["newest"] or 0
        for batch in batches:
            number += 1
            updated = Batch.objects.filter(
                pk=batch.pk, run=run, status=Batch.Status.PENDING
            ).update(status=Batch.Status.PUBLISHED, index=number, published_at=now)
            if updated != 1:
                raise PublicationSuperseded(
                    f"Batch {batch.pk} is no longer pending for run {run.pk}"
                )
        published = Batch.objects.filter(pk__in=[batch.pk for batch in batches])
        padding = sum(published.values_list("padding_count", flat=True))
        for region_id, count in sorted(keys_by_region.items()):
            increment(metrics.KEYS_PUBLISHED, region_id=region_id, amount=count)
        if batches:
            increment(metrics.BATCHES_PUBLISHED, amount=len(batches))
            if padding:
                increment(metrics.PADDING_KEYS_PUBLISHED, amount=padding)
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
            _audit_finished(
                run,
                outcome="succeeded",
                details={
                    "batches": [number - len(batches) + 1, number] if batches else [],
                    "keys": sum(batch.key_count for batch in batches),
                    "padding_keys": padding,
                },
            )


def _audit_finished(run: PublicationRun, *, outcome: str, details: dict[str, Any]) -> None:
    record_event(
        action=Action.PUBLICATION_FINISHED,
        actor=run.requested_by,
        actor_username="" if run.requested_by_id else "scheduler",
        target=f"publication run {run.pk}",
        details={"run": run.pk, "trigger": run.trigger, "outcome": outcome, **details},
    )


# ---------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class BatchCheck:
    """The outcome of re-reading a stored batch file."""

    found: bool
    digest_matches: bool = False
    signature_valid: bool = False
    verified_versions: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.found and self.digest_matches and self.signature_valid


def verify_batch(*, batch: Batch) -> BatchCheck:
    """Re-read the stored file: same SHA-256 as recorded, and signatures valid with our keys."""
    storage = batch_storage()
    if not batch.file_name or not storage.exists(batch.file_name):
        return BatchCheck(found=False)
    with storage.open(batch.file_name, "rb") as stored:
        content = stored.read()
    digest_matches = hashlib.sha256(content).hexdigest() == batch.sha256
    try:
        verification = verify_export_zip(content, public_keys_by_version())
    except ExportFormatError as error:
        return BatchCheck(found=True, digest_matches=digest_matches, problems=(str(error),))
    verified = tuple(
        check.signature.signature_info.verification_key_version
        for check in verification.checks
        if check.outcome == "valid"
    )
    return BatchCheck(
        found=True,
        digest_matches=digest_matches,
        signature_valid=verification.is_valid,
        verified_versions=verified,
        problems=verification.problems,
    )


# ---------------------------------------------------------------------------- retention


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
    key_cutoff = current_interval(now) - settings.KEYS_RETENTION_DAYS * INTERVALS_PER_DAY
    with transaction.atomic(), hash_joins_only():
        # Claims are made holding this lock: none can appear for a key we are deleting.
        _lock_for_update()
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
        if storage.exists(batch.file_name):
            storage.delete(batch.file_name)
            files_deleted += 1
        Batch.objects.filter(pk=batch.pk).update(file_name="")
    files_deleted += _delete_stray_files(storage, now)
    with transaction.atomic():
        _lock_for_update()
        _close_abandoned_runs(now)
    return RetentionReport(
        keys_deleted=keys_deleted, batches_retired=retired, files_deleted=files_deleted
    )


def _delete_stray_files(storage: Storage, now: datetime) -> int:
    """Files no batch names (a retired batch's is deleted above, after its grace): left by
    stalled runs, or by an interrupted deletion."""
    try:
        _dirs, names = storage.listdir("")
    except FileNotFoundError:
        return 0
    kept = set(
        Batch.objects.exclude(file_name="").values_list("file_name", flat=True)
    )  # pending, published, or retired and still served
    deleted = 0
    for name in names:
        if not name.endswith(".zip") or name in kept:
            continue
        if storage.get_modified_time(name) > now - ORPHAN_GRACE:
            continue
        storage.delete(name)
        deleted += 1
    return deleted
