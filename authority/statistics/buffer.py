"""Buffered counter increments: HINCRBY in a Redis hash now, one database transaction per flush.

Under load every request would otherwise update a hot row (today's counter of a region).
With STATISTICS_BUFFERED, `increment` adds to the field of a Redis hash once the caller's
transaction commits, and `flush` (a Celery beat task) applies the hash to DailyCounter.

A flush never loses nor double-applies an increment, even when a worker dies half-way:

1. RENAME moves the live hash aside, atomically, to a key that names this flush
   (`<prefix>:flush:<flush id>`); new increments start a fresh live hash.
2. One database transaction inserts AppliedFlush(flush id) — unique — and adds every field to
   its counter. Either all of it commits or none of it does.
3. Only after the commit is the moved hash deleted.

Every flush first retries the moved hashes it finds: one whose id is already in AppliedFlush
died between 2 and 3 (just delete it); the others died before 2 committed (apply them now).
Two flushes racing on one moved hash both try step 2; the unique flush id lets one win.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from authority.operations.redis_clients import shared_client
from authority.statistics.counters import CounterKey, add_to_counter
from authority.statistics.models import AppliedFlush

logger = logging.getLogger(__name__)

_SEPARATOR = "|"
# A flush record outlives its moved hash by far: a hash left over after this long would be
# applied again, so keep it well above any plausible outage of the flush task.
FLUSH_RECORD_DAYS = 30
# A push's receipt is looked for at once after a failure; a minute is plenty.
RECEIPT_SECONDS = 60


def client() -> redis.Redis:
    return shared_client(settings.STATISTICS_REDIS_URL)


def pending_key() -> str:
    return f"{settings.STATISTICS_REDIS_PREFIX}:pending"


def _moved_prefix() -> str:
    return f"{settings.STATISTICS_REDIS_PREFIX}:flush:"


def moved_key(flush_id: str) -> str:
    """Where a flush moves the live hash: its name carries the flush's id."""
    return f"{_moved_prefix()}{flush_id}"


def encode_field(key: CounterKey) -> str:
    return _SEPARATOR.join(
        [key.day.isoformat(), key.metric, str(key.region_id), str(key.operator_id), key.bucket]
    )


def decode_field(raw: bytes | str) -> CounterKey:
    text = raw.decode() if isinstance(raw, bytes) else raw
    day, metric, region_id, operator_id, bucket = text.split(_SEPARATOR, 4)
    return CounterKey(
        day=date.fromisoformat(day),
        metric=metric,
        region_id=int(region_id),
        operator_id=int(operator_id),
        bucket=bucket,
    )


# Increments committed inside `one_round_trip()`, waiting to be sent together at its end.
_collected: ContextVar[list[tuple[CounterKey, int]] | None] = ContextVar(
    "statistics_collected", default=None
)


def add(key: CounterKey, amount: int) -> None:
    """Count `amount` once the current transaction commits (at once outside a transaction),
    so that a rolled-back request counts nothing, as with the database counters."""
    transaction.on_commit(lambda: _committed(key, amount))


@contextmanager
def one_round_trip() -> Iterator[None]:
    """Send the increments committed inside this block to Redis together, when it ends.

    A device request counts up to ten things; one pipeline instead of ten round trips.
    """
    collected: list[tuple[CounterKey, int]] = []
    token = _collected.set(collected)
    try:
        yield
    finally:
        _collected.reset(token)
        _push(collected)


def _committed(key: CounterKey, amount: int) -> None:
    collected = _collected.get()
    if collected is None:
        _push([(key, amount)])
    else:
        collected.append((key, amount))


def _push(increments: list[tuple[CounterKey, int]]) -> None:
    if not increments:
        return
    # Set in the same MULTI as the increments: it exists if and only if they were applied.
    receipt = f"{settings.STATISTICS_REDIS_PREFIX}:receipt:{secrets.token_hex(8)}"
    try:
        pipeline = client().pipeline(transaction=True)  # all or none: never half counted
        for key, amount in increments:
            pipeline.hincrby(pending_key(), encode_field(key), amount)
        pipeline.set(receipt, 1, ex=RECEIPT_SECONDS)
        pipeline.execute()
    except redis.RedisError:
        if _was_applied(receipt):
            return  # the answer was lost (a timeout), not the increments
        # Redis unreachable: the database is slower but loses nothing.
        logger.warning("Statistics buffer unreachable; counting in the database")
        for key, amount in increments:
            add_to_counter(key, amount)


def _was_applied(receipt: str) -> bool:
    """After a failed push: did Redis apply it anyway (EXEC ran, its reply never came)?
    False when Redis cannot tell, and then the database counts them."""
    try:
        return bool(client().exists(receipt))
    except redis.RedisError:
        return False


@dataclass
class FlushReport:
    flushes: list[str] = field(default_factory=list)  # ids applied by this call
    counters: int = 0  # fields added to the database
    discarded: int = 0  # moved hashes found already applied (deleted only)


def flush(*, redis_client: redis.Redis | None = None) -> FlushReport:
    """Apply what earlier flushes left behind, then the live hash. Safe to run concurrently."""
    connection = redis_client or client()
    report = FlushReport()
    for moved in sorted(connection.scan_iter(match=f"{_moved_prefix()}*", count=100)):
        _apply_moved(connection, _text(moved), report)
    flush_id = f"{int(time.time() * 1000):013d}-{secrets.token_hex(6)}"
    try:
        connection.rename(pending_key(), moved_key(flush_id))
    except redis.ResponseError:
        pass  # no live hash: nothing was counted since the last flush
    else:
        _apply_moved(connection, moved_key(flush_id), report)
    AppliedFlush.objects.filter(
        applied_at__lt=timezone.now() - timedelta(days=FLUSH_RECORD_DAYS)
    ).delete()
    return report


def _apply_moved(connection: redis.Redis, key: str, report: FlushReport) -> None:
    flush_id = key.removeprefix(_moved_prefix())
    fields = connection.hgetall(key)
    try:
        with transaction.atomic():
            # First, so that a concurrent flush of the same hash waits here and then fails.
            AppliedFlush.objects.create(flush_id=flush_id, counters=len(fields))
            for raw_field, raw_amount in fields.items():
                amount = int(raw_amount)
                if amount:
                    add_to_counter(decode_field(raw_field), amount)
    except IntegrityError:
        report.discarded += 1  # applied before: by a flush that died before deleting it
    else:
        report.flushes.append(flush_id)
        report.counters += len(fields)
    connection.delete(key)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
