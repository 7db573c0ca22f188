"""Claiming the due keys for new pending batches: which file publishes each key.

A step of a publication (services/publication.py), run in its claim transaction while it
holds the publication lock: that, and taking only keys without a claim, is what makes each
key claimed, and so published, at most once. The database does the work in three
statements whatever the number of keys; no key passes through Python (README, "Claims and
files, in the database").
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
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

from authority.keys.models import (
    Batch,
    ClaimedKey,
    ExposureKey,
    PublicationRun,
    interval_to_datetime,
)
from authority.keys.planning import hash_joins_only


@dataclass
class BatchContents:
    """What a pending batch holds: how many keys, their validity span (intervals), regions.

    `keys` counts every key of the file; `by_region` our own keys by region, `received` the
    keys received from the European gateway (services/received_claims.py), which have none.
    """

    keys: int = 0
    start: int = 0
    end: int = 0
    by_region: Counter[int] = field(default_factory=Counter)
    received: int = 0

    def add(self, *, region_id: int, keys: int, start: int, end: int) -> None:
        self._widen(start, end)
        self.keys += keys
        self.by_region[region_id] += keys

    def add_received(self, *, keys: int, start: int, end: int) -> None:
        self._widen(start, end)
        self.keys += keys
        self.received += keys

    def _widen(self, start: int, end: int) -> None:
        self.start = min(self.start, start) if self.keys else start
        self.end = max(self.end, end) if self.keys else end


def claim_due_keys(*, run: PublicationRun, cutoff: int, max_keys: int) -> dict[int, BatchContents]:
    """Claim every due key that has no claim for new pending batches of `run`; their contents.

    Due: validity ended by interval `cutoff`. The three statements:

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
                        contents = {batch_id: BatchContents() for batch_id in batch_ids}
                        stops = [byte_range.stop for byte_range in ranges]
                        for first_byte, region_id, keys, start, end in by_first_byte:
                            batch_id = batch_ids[bisect_right(stops, first_byte)]
                            contents[batch_id].add(
                                region_id=region_id, keys=keys, start=start, end=end
                            )
                        return contents
                    contents = batch_contents(batch_ids)  # uploads arrived meanwhile
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
                return batch_contents(filled)


def batch_contents(batch_ids: Sequence[int]) -> dict[int, BatchContents]:
    """The contents of these batches, by batch id (batches with no claimed key are left out)."""
    contents: dict[int, BatchContents] = {}
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
        contents.setdefault(batch_id, BatchContents()).add(
            region_id=region_id, keys=keys, start=start, end=end
        )
    return contents


def end_of_last_window(country: str = "") -> datetime | None:
    """Where the last published file of a series' arrival window ended (retired files count
    too); the national series by default."""
    return (
        Batch.objects.filter(
            country=country, status__in=[Batch.Status.PUBLISHED, Batch.Status.RETIRED]
        )
        .aggregate(end=Max("period_end"))
        .get("end")
    )


def arrival_window(
    start: datetime | None, content: BatchContents, claimed_at: datetime
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
