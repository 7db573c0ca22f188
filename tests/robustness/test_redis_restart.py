"""Redis crashes around a flush of the buffered counters: no increment lost or counted twice.

A private redis-server is killed with SIGKILL at the worst moments of
authority.statistics.buffer.flush and started again on the same folder:

- after the flush's database transaction committed but before it deleted the moved hash;
- after the flush moved (RENAMEd) the live hash but before it read it;
- while requests are counting (increments fall back to the database).

What is guaranteed, precisely: with Redis persisting every write (appendonly, appendfsync
always) every increment Redis acknowledged reaches the database exactly once. With the usual
`appendfsync everysec` a crash can lose the last second of increments; without persistence it
loses every increment not yet flushed (at most STATISTICS_FLUSH_SECONDS of counts) — the last
test shows that risk, and that even then nothing is counted twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
import redis

from authority.statistics import buffer
from authority.statistics.counters import add_to_counter
from authority.statistics.models import DailyCounter
from authority.statistics.services import increment
from tests.conftest import log_of
from tests.robustness.conftest import PrivateRedis

pytestmark = pytest.mark.django_db(transaction=True)

METRICS = ("uploads", "keys_stored", "dummy_requests")


@pytest.fixture
def buffered(settings, private_redis: Callable[..., PrivateRedis]) -> Callable[..., PrivateRedis]:
    """Buffer the counters in a private Redis; returns a starter for it."""

    def start(*, appendonly: bool = True) -> PrivateRedis:
        server = private_redis(appendonly=appendonly)
        settings.STATISTICS_BUFFERED = True
        settings.STATISTICS_REDIS_URL = server.url
        settings.STATISTICS_REDIS_PREFIX = f"test:{secrets.token_hex(4)}"
        return server

    return start


def count(rounds: int) -> dict[str, int]:
    """What requests would count: `rounds` increments of a few counters in two regions."""
    sent = dict.fromkeys(METRICS, 0)
    for n in range(rounds):
        for metric in METRICS:
            amount = 1 + n % 3
            increment(metric, region_id=1 + n % 2, amount=amount)
            sent[metric] += amount
    return sent


def in_database() -> dict[str, int]:
    totals = dict.fromkeys(METRICS, 0)
    for metric, value in DailyCounter.objects.values_list("metric", "value"):
        totals[metric] += value
    return totals


def add(*counts: dict[str, int]) -> dict[str, int]:
    return {metric: sum(c[metric] for c in counts) for metric in METRICS}


def leftovers(server: PrivateRedis) -> list[bytes]:
    """Counter hashes left in Redis (the pushes' receipts expire by themselves)."""
    keys = redis.Redis.from_url(server.url).scan_iter(match="test:*")
    return [key for key in keys if b":receipt:" not in key]


def test_a_crash_after_the_flush_committed_is_not_applied_twice(buffered, monkeypatch):
    server = buffered()
    before = count(60)
    apply = add_to_counter
    crashed: list[bool] = []

    def crash_then_apply(key, amount):
        if not crashed:
            server.kill()  # inside the database transaction: it still commits
            crashed.append(True)
        apply(key, amount)

    monkeypatch.setattr(buffer, "add_to_counter", crash_then_apply)
    with pytest.raises(redis.ConnectionError):
        buffer.flush()  # the delete of the moved hash fails: Redis is gone
    monkeypatch.setattr(buffer, "add_to_counter", apply)
    assert in_database() == before  # applied once, in the committed transaction

    server.start()  # same folder: the moved hash is back, undeleted
    after = count(25)
    report = buffer.flush()
    assert report.discarded == 1  # the leftover was recognised as applied, and dropped
    assert in_database() == add(before, after)
    assert not leftovers(server)


def test_a_crash_between_moving_and_reading_the_hash_loses_nothing(buffered, monkeypatch):
    server = buffered()
    before = count(40)
    apply_moved = buffer._apply_moved

    def crash_then_apply(connection, key, report):
        server.kill()
        apply_moved(connection, key, report)

    monkeypatch.setattr(buffer, "_apply_moved", crash_then_apply)
    with pytest.raises(redis.ConnectionError):
        buffer.flush()
    monkeypatch.setattr(buffer, "_apply_moved", apply_moved)
    assert in_database() == dict.fromkeys(METRICS, 0)  # nothing applied yet

    server.start()
    report = buffer.flush()
    assert len(report.flushes) == 1 and report.discarded == 0  # the moved hash, applied now
    assert in_database() == before
    assert not leftovers(server)


def test_increments_while_redis_is_down_go_to_the_database(buffered):
    server = buffered()
    before = count(20)
    server.kill()
    with log_of("authority.statistics.buffer") as logged:
        during = count(15)  # each falls back to the database, with a warning
    assert any("Statistics buffer unreachable" in message for message in logged), logged
    assert in_database() == during
    server.start()
    after = count(10)
    buffer.flush()
    assert in_database() == add(before, during, after)


def test_without_persistence_a_crash_loses_what_was_not_flushed_but_counts_nothing_twice(
    buffered,
):
    """The documented risk of running Redis without persistence (docs/statistics.md)."""
    server = buffered(appendonly=False)
    flushed = count(30)
    buffer.flush()
    lost = count(20)
    assert sum(lost.values()) > 0
    server.restart()
    after = count(5)
    buffer.flush()
    assert in_database() == add(flushed, after)
