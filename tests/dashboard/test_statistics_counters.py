"""The aggregate store: days in Rome's time zone, and buffered counters that Redis hands to the
database exactly once, whatever crashes in between."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import redis
import time_machine
from django.db import transaction

from authority.statistics import buffer
from authority.statistics.counters import add_to_counter
from authority.statistics.models import AppliedFlush, DailyCounter
from authority.statistics.services import CounterKey, increment, local_day
from tasks.statistics import flush_counters
from tests.dashboard.conftest import counter

pytestmark = pytest.mark.django_db


# --- Days -----------------------------------------------------------------------------------


def test_late_evening_utc_in_winter_counts_for_the_next_rome_day():
    # 23:30 UTC on 15 January is 00:30 on the 16th in Rome (UTC+1).
    with time_machine.travel(datetime(2026, 1, 15, 23, 30, tzinfo=UTC), tick=False):
        assert local_day() == date(2026, 1, 16)
        increment("uploads", region_id=1)
    assert DailyCounter.objects.get(metric="uploads").day == date(2026, 1, 16)


def test_late_evening_utc_in_summer_counts_for_the_next_rome_day_an_hour_earlier():
    # Summer time: UTC+2, so 22:30 UTC is already the next day in Rome.
    with time_machine.travel(datetime(2026, 7, 15, 22, 30, tzinfo=UTC), tick=False):
        assert local_day() == date(2026, 7, 16)
    with time_machine.travel(datetime(2026, 7, 15, 21, 30, tzinfo=UTC), tick=False):
        assert local_day() == date(2026, 7, 15)


def test_without_buffering_an_increment_reaches_the_database_at_once(settings):
    settings.STATISTICS_BUFFERED = False
    increment("uploads", region_id=3, amount=2)
    increment("uploads", region_id=3)
    assert counter("uploads", region_id=3) == 3


def test_codes_for_the_quotas_are_never_buffered(settings):
    # The daily quotas read these back under a lock: they cannot wait for a flush.
    settings.STATISTICS_BUFFERED = True
    settings.STATISTICS_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    increment("otp_issued", region_id=3, operator_id=7)
    increment("otp_authorized", region_id=3, operator_id=7)
    assert counter("otp_issued", operator_id=7) == 1
    assert counter("otp_authorized", operator_id=7) == 1


def test_an_unreachable_redis_makes_increments_go_to_the_database(
    settings, django_capture_on_commit_callbacks
):
    settings.STATISTICS_BUFFERED = True
    settings.STATISTICS_REDIS_URL = "redis://127.0.0.1:1/0"
    with django_capture_on_commit_callbacks(execute=True):
        increment("uploads", region_id=3)
    assert counter("uploads", region_id=3) == 1


def test_a_field_names_its_counter_and_back():
    key = CounterKey(
        day=date(2026, 3, 1), metric="keys_per_upload", region_id=4, operator_id=0, bucket="14"
    )
    assert buffer.decode_field(buffer.encode_field(key)) == key
    odd = CounterKey(day=date(2026, 3, 1), metric="x", bucket="a|b")
    assert buffer.decode_field(buffer.encode_field(odd)) == odd


# --- Buffered, against a real Redis -----------------------------------------------------------


@pytest.mark.redis
def test_buffered_increments_wait_for_the_flush(redis_buffer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        increment("uploads", region_id=3)
        increment("uploads", region_id=3, amount=4)
        increment("keys_per_upload", region_id=3, bucket="14")
    assert counter("uploads") == 0
    report = buffer.flush()
    assert len(report.flushes) == 1 and report.counters == 2
    assert counter("uploads", region_id=3) == 5
    assert counter("keys_per_upload", bucket="14") == 1
    left = [key for key in redis_buffer.scan_iter(match="test-statistics:*")]
    # Only the pushes' receipts, which expire within a minute.
    assert left and all(b":receipt:" in key for key in left)
    assert all(0 < redis_buffer.ttl(key) <= buffer.RECEIPT_SECONDS for key in left)
    # Nothing new: a second flush changes nothing.
    assert buffer.flush().flushes == []
    assert counter("uploads", region_id=3) == 5


@pytest.mark.redis
def test_a_rolled_back_transaction_counts_nothing(redis_buffer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                increment("uploads", region_id=3)
                raise RuntimeError("the upload failed")
        except RuntimeError:
            pass
        with transaction.atomic():
            increment("uploads", region_id=4)
    buffer.flush()
    assert counter("uploads", region_id=3) == 0
    assert counter("uploads", region_id=4) == 1


@pytest.mark.redis
def test_a_flush_that_died_before_committing_is_applied_by_the_next(
    redis_buffer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        increment("uploads", region_id=3, amount=2)
    # A worker moved the hash aside, then died before its transaction committed.
    redis_buffer.rename(buffer.pending_key(), buffer.moved_key("0001-dead"))
    with django_capture_on_commit_callbacks(execute=True):
        increment("uploads", region_id=3)  # counted after the crash, in a fresh live hash
    report = buffer.flush()
    assert report.flushes[0] == "0001-dead" and len(report.flushes) == 2
    assert counter("uploads", region_id=3) == 3
    assert AppliedFlush.objects.filter(flush_id="0001-dead").exists()


@pytest.mark.redis
def test_a_flush_that_died_after_committing_is_not_applied_twice(
    redis_buffer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        increment("uploads", region_id=3, amount=2)
    moved = buffer.moved_key("0002-committed")
    redis_buffer.rename(buffer.pending_key(), moved)
    # Its transaction committed (the counter and the flush record), then the worker died
    # before deleting the moved hash.
    increment_as_committed = CounterKey(day=local_day(), metric="uploads", region_id=3)
    with transaction.atomic():
        AppliedFlush.objects.create(flush_id="0002-committed", counters=1)
        add_to_counter(increment_as_committed, 2)
    report = buffer.flush()
    assert report.discarded == 1 and report.flushes == []
    assert counter("uploads", region_id=3) == 2
    assert not redis_buffer.exists(moved)


@pytest.mark.redis
def test_a_database_failure_mid_flush_keeps_everything_for_the_next_flush(
    redis_buffer, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        increment("uploads", region_id=3, amount=2)
        increment("uploads", region_id=4, amount=5)
    real_add = add_to_counter
    calls = []

    def failing_add(key: CounterKey, amount: int) -> None:
        calls.append(key)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        real_add(key, amount)

    monkeypatch.setattr(buffer, "add_to_counter", failing_add)
    with pytest.raises(RuntimeError):
        buffer.flush()
    assert counter("uploads") == 0  # the first field was rolled back with the rest
    assert not AppliedFlush.objects.exists()
    monkeypatch.setattr(buffer, "add_to_counter", real_add)
    buffer.flush()
    assert counter("uploads", region_id=3) == 2
    assert counter("uploads", region_id=4) == 5


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)  # real commits: on_commit runs when they happen
def test_a_request_sends_what_it_committed_together_at_its_end(redis_buffer):
    pending = buffer.pending_key()
    with buffer.one_round_trip():
        increment("real_requests", bucket="upload")  # autocommit
        with transaction.atomic():
            increment("uploads", region_id=3)
            increment("keys_per_upload", region_id=3, bucket="14")
        try:
            with transaction.atomic():
                increment("uploads", region_id=4)
                raise RuntimeError("the upload failed")
        except RuntimeError:
            pass
        assert redis_buffer.hgetall(pending) == {}  # nothing sent yet
    assert len(redis_buffer.hgetall(pending)) == 3
    buffer.flush()
    assert counter("real_requests", bucket="upload") == 1
    assert counter("uploads", region_id=3) == 1
    assert counter("keys_per_upload", region_id=3, bucket="14") == 1
    assert counter("uploads", region_id=4) == 0


@pytest.mark.django_db(transaction=True)
def test_a_request_counts_in_the_database_when_redis_is_unreachable(settings):
    settings.STATISTICS_BUFFERED = True
    settings.STATISTICS_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    with buffer.one_round_trip(), transaction.atomic():
        increment("uploads", region_id=3)
        increment("uploads", region_id=3, amount=2)
    assert counter("uploads", region_id=3) == 3


def _pipelines_fail(monkeypatch, *, after_applying: bool) -> None:
    """Every MULTI/EXEC times out, after Redis applied it or before it reached Redis."""
    execute = redis.client.Pipeline.execute

    def timing_out(self, *args, **kwargs):
        if after_applying:
            execute(self, *args, **kwargs)
        raise redis.TimeoutError("Timeout reading from socket")

    monkeypatch.setattr(redis.client.Pipeline, "execute", timing_out)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_increments_whose_reply_was_lost_are_not_counted_twice(redis_buffer, monkeypatch):
    """Redis applied the increments, then its reply timed out: counting them in the database
    as well would count them twice."""
    _pipelines_fail(monkeypatch, after_applying=True)
    with buffer.one_round_trip(), transaction.atomic():
        increment("uploads", region_id=3, amount=2)
    monkeypatch.undo()
    assert counter("uploads", region_id=3) == 0  # not in the database: Redis has them
    buffer.flush()
    assert counter("uploads", region_id=3) == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_increments_that_never_reached_redis_are_counted_in_the_database(redis_buffer, monkeypatch):
    _pipelines_fail(monkeypatch, after_applying=False)
    with buffer.one_round_trip(), transaction.atomic():
        increment("uploads", region_id=3, amount=2)
    monkeypatch.undo()
    assert counter("uploads", region_id=3) == 2
    buffer.flush()
    assert counter("uploads", region_id=3) == 2


@pytest.mark.redis
def test_concurrent_increments_are_all_counted(redis_buffer):
    def count_many() -> None:
        for _ in range(200):
            buffer._push(
                [(CounterKey(day=local_day(), metric="real_requests", bucket="upload"), 1)]
            )

    threads = [threading.Thread(target=count_many) for _ in range(5)]
    for thread in threads:
        thread.start()
    flushed_meanwhile = buffer.flush()  # a flush in the middle of the traffic loses nothing
    for thread in threads:
        thread.join()
    buffer.flush()
    assert counter("real_requests", bucket="upload") == 1000
    assert flushed_meanwhile.counters in (0, 1)


@pytest.mark.redis
def test_the_beat_task_flushes(redis_buffer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        increment("uploads", region_id=3)
    result = flush_counters.delay().get()
    assert result == {"flushes": 1, "counters": 1, "discarded": 0}
    assert counter("uploads", region_id=3) == 1


def test_the_beat_task_does_nothing_without_redis(settings):
    settings.STATISTICS_REDIS_URL = ""
    assert flush_counters.delay().get() == {"flushes": 0, "counters": 0, "discarded": 0}


def test_a_missing_redis_fails_the_flush_and_loses_nothing(settings):
    settings.STATISTICS_REDIS_URL = "redis://127.0.0.1:1/0"
    with pytest.raises(redis.RedisError):
        buffer.flush(redis_client=redis.Redis.from_url(settings.STATISTICS_REDIS_URL))
