"""Our download against the test gateway over mutual TLS: follow the chain, verify every part, keep what phones can use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from authority.federation import download, metrics, upload
from authority.federation.models import (
    FederationRun,
    InboundBatch,
    InboundChunk,
    OutboundKey,
    ReceivedKey,
)
from authority.statistics.models import DailyCounter
from tests.federation.conftest import GatewayHandle, foreign_key


def _no_sleep(_seconds: float) -> None:
    return None


def _counter(metric: str, bucket: str = "") -> int:
    return sum(
        DailyCounter.objects.filter(metric=metric, bucket=bucket).values_list("value", flat=True)
    )


def _upload(
    gateway: GatewayHandle, count: int, origin: str = "DE", **key_fields: Any
) -> list[bytes]:
    keys = [foreign_key(origin=origin, **key_fields) for _ in range(count)]
    lower = origin.lower()
    response = gateway.upload_as(keys, client=f"{lower}-tls", signer=f"{lower}-signing")
    assert response.status_code == 201, response.text
    return [key.key_data for key in keys]


def _received() -> set[bytes]:
    return {bytes(data) for data in ReceivedKey.objects.values_list("key_data", flat=True)}


def test_download_follows_next_batch_tags_and_keeps_verified_keys(
    db: None, federation: GatewayHandle
) -> None:
    federation.settings(doclimit=3)
    german = _upload(federation, 3) + _upload(federation, 2)
    french = _upload(federation, 3, "FR", visited=("DE", "BE"))
    batches = federation.batch()
    assert len(batches) == 3

    run = download.run_download(sleep=_no_sleep)

    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert _received() == set(german + french)
    assert list(InboundBatch.objects.order_by("id").values_list("batch_tag", "status")) == [
        (tag, InboundBatch.Status.ACCEPTED) for tag in batches
    ]
    # Keys that visited Italy go to the national exports; the others to their countries'.
    assert set(
        ReceivedKey.objects.filter(for_national_export=True).values_list("origin", flat=True)
    ) == {"DE"}
    assert ReceivedKey.objects.filter(origin="FR", visited_countries=",BE,DE,").count() == 3
    assert run.keys_received == 8 and run.batches == 3
    assert _counter(metrics.KEYS_RECEIVED, "DE") == 5
    assert _counter(metrics.KEYS_RECEIVED, "FR") == 3
    downloads = [
        r
        for r in federation.state()["requests"]
        if r["path"].startswith("/diagnosiskeys/download/")
    ]
    assert [r["batchTag"] for r in downloads] == batches


def test_a_tampered_batch_is_refused_and_the_rest_kept(db: None, federation: GatewayHandle) -> None:
    german = _upload(federation, 3)
    french = _upload(federation, 2, "FR")
    (tag,) = federation.batch()
    # The gateway serves a German key changed after its signature was checked.
    federation.tamper(tag, 1, rolling_period=100)

    run = download.run_download(sleep=_no_sleep)

    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    assert _received() == set(french)
    assert not _received() & set(german)
    batch = InboundBatch.objects.get()
    assert (batch.status, batch.keys_refused, batch.keys_accepted) == (
        InboundBatch.Status.PARTLY_REFUSED, 3, 2,
    )  # fmt: skip
    refused = InboundChunk.objects.get(verified=False)
    assert (refused.country, refused.key_count, refused.reason) == ("DE", 3, "signature")
    assert _counter(metrics.CHUNKS_REFUSED, "signature") == 1
    assert _counter(metrics.KEYS_REFUSED, "DE") == 3
    assert run.keys_refused == 3


def test_keys_that_phones_cannot_use_are_dropped_and_counted(
    db: None, federation: GatewayHandle
) -> None:
    good = _upload(federation, 1)
    _upload(federation, 1, report_type=3)  # self report
    _upload(federation, 1, dsos_value=5000)  # not an EFGS days-since-onset value
    _upload(federation, 1, days_ago=15)  # older than our 14 days
    federation.batch()
    run = download.run_download(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    assert _received() == set(good)
    assert InboundBatch.objects.get().keys_invalid == 3
    assert _counter(metrics.KEYS_INVALID, "DE") == 3


def test_a_key_received_twice_is_kept_once(db: None, federation: GatewayHandle) -> None:
    key = foreign_key(visited=("IT",))
    again = foreign_key(key.key_data, visited=("IT", "FR"))  # another payload, same key
    assert federation.upload_as([key]).status_code == 201
    assert federation.upload_as([again], client="de-tls").status_code == 201
    federation.batch()
    download.run_download(sleep=_no_sleep)
    assert ReceivedKey.objects.count() == 1
    assert InboundBatch.objects.get().keys_duplicate == 1


def test_download_resumes_where_an_interrupted_run_stopped(
    db: None, federation: GatewayHandle
) -> None:
    federation.settings(doclimit=2)
    for _ in range(3):
        _upload(federation, 2)
    first, second, third = federation.batch()
    federation.fault("download", "ok", "ok", "error_500", "error_500", "error_500")

    interrupted = download.run_download(sleep=_no_sleep)

    assert interrupted is not None and interrupted.status == FederationRun.Status.FAILED
    assert "did not answer" in interrupted.message
    assert list(InboundBatch.objects.order_by("id").values_list("batch_tag", flat=True)) == [
        first,
        second,
    ]

    resumed = download.run_download(sleep=_no_sleep)

    assert resumed is not None and resumed.status == FederationRun.Status.SUCCEEDED
    assert resumed.batches == 1
    assert list(InboundBatch.objects.order_by("id").values_list("batch_tag", flat=True)) == [
        first,
        second,
        third,
    ]
    assert ReceivedKey.objects.count() == 6
    downloads = [
        r
        for r in federation.state()["requests"]
        if r["path"].startswith("/diagnosiskeys/download/") and r["status"] == 200
    ]
    assert [r["batchTag"] for r in downloads] == [first, second, third]


def test_a_later_run_asks_the_last_batch_again_for_what_came_since(
    db: None, federation: GatewayHandle
) -> None:
    _upload(federation, 2)
    (first,) = federation.batch()
    download.run_download(sleep=_no_sleep)
    newer = _upload(federation, 2, "FR")
    (second,) = federation.batch()

    run = download.run_download(sleep=_no_sleep)

    assert run is not None and run.batches == 1
    assert set(newer) <= _received()
    downloads = [
        r["batchTag"]
        for r in federation.state()["requests"]
        if r["path"].startswith("/diagnosiskeys/download/")
    ]
    assert downloads == [first, first, second]
    assert InboundBatch.objects.get(batch_tag=first).next_batch_tag == second


def test_batches_of_several_days_are_followed_and_audited_on_their_own_day(
    db: None, federation: GatewayHandle
) -> None:
    now = datetime.now(UTC)
    federation.set_clock(now - timedelta(days=1))
    yesterday_keys = _upload(federation, 2, days_ago=2)
    (yesterdays,) = federation.batch()
    federation.set_clock(now)
    today_keys = _upload(federation, 2)
    (todays,) = federation.batch()

    run = download.run_download(sleep=_no_sleep, now=now)

    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert _received() == set(yesterday_keys + today_keys)
    assert dict(InboundBatch.objects.values_list("batch_tag", "batch_date")) == {
        yesterdays: (now - timedelta(days=1)).date(),
        todays: now.date(),
    }


def test_our_own_keys_never_come_back_and_received_keys_are_never_uploaded(
    db: None, federation: GatewayHandle
) -> None:
    from tests.federation.test_upload import _offer

    _offer(2)
    upload.run_upload(sleep=_no_sleep)
    _upload(federation, 2)
    federation.batch()
    download.run_download(sleep=_no_sleep)
    assert set(ReceivedKey.objects.values_list("origin", flat=True)) == {"DE"}
    assert OutboundKey.objects.count() == 2
    upload.run_upload(sleep=_no_sleep)
    uploads = [r for r in federation.state()["requests"] if r["path"] == "/diagnosiskeys/upload"]
    assert [(r["country"], r["status"]) for r in uploads] == [("IT", 201), ("DE", 201)]


def test_nothing_to_download_is_a_quiet_success(db: None, federation: GatewayHandle) -> None:
    run = download.run_download(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    assert InboundBatch.objects.count() == 0


def test_a_run_with_an_expired_cursor_starts_from_the_oldest_day_the_gateway_keeps(
    db: None, federation: GatewayHandle
) -> None:
    InboundBatch.objects.create(
        batch_tag="20000101-1", batch_date=datetime(2000, 1, 1, tzinfo=UTC).date(),
        status=InboundBatch.Status.ACCEPTED,
    )  # fmt: skip
    keys = _upload(federation, 1)
    federation.batch()
    download.run_download(sleep=_no_sleep)
    assert _received() == set(keys)


def test_the_publication_finds_foreign_keys_for_the_national_and_per_country_exports(
    db: None, federation: GatewayHandle
) -> None:
    from authority.federation import selectors

    to_italy = _upload(federation, 2, visited=("IT", "FR"))
    to_france = _upload(federation, 1, visited=("FR",))
    from_france = _upload(federation, 1, "FR", visited=("BE",))
    federation.batch()
    download.run_download(sleep=_no_sleep)
    now = datetime.now(UTC)

    def key_set(queryset: Any) -> set[bytes]:
        return {bytes(data) for data in queryset.values_list("key_data", flat=True)}

    assert key_set(selectors.received_keys_for_national_export(now=now)) == set(to_italy)
    assert key_set(selectors.received_keys_for_country(country="FR", now=now)) == set(
        to_france + from_france
    )
    assert key_set(selectors.received_keys_for_country(country="BE", now=now)) == set(from_france)
    # Keys still valid (or within the embargo) wait, as ours do.
    assert not key_set(selectors.received_keys_for_national_export(now=now - timedelta(days=3)))


def test_a_gateway_that_keeps_fewer_days_than_configured_is_read_from_its_oldest_day(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    # A 410 to a first request without a tag moves a day forward (also what the UTC
    # midnight between our clock and the gateway's answer needs), and the run says so.
    settings.FEDERATION_DOWNLOAD_DAYS = 5
    german = _upload(federation, 2)
    federation.batch()
    run = download.run_download(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert _received() == set(german)
    oldest = (datetime.now(UTC) - timedelta(days=2)).date()
    assert f"no longer keeps the days before {oldest}" in run.message
    statuses = [
        r["status"]
        for r in federation.state()["requests"]
        if r["path"].startswith("/diagnosiskeys/download/")
    ]
    assert statuses == [410, 410, 410, 200]


def test_a_batch_with_no_keys_for_us_is_dated_by_its_own_day(
    db: None, federation: GatewayHandle
) -> None:
    # Only our own keys in it: the download is empty for us. Its day is the tag's, not the
    # day asked, so that the next run resumes from it rather than from the oldest day.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    federation.set_clock(yesterday)
    assert federation.upload_as([foreign_key(origin="IT")], client="it-tls",
                                signer="it-signing").status_code == 201  # fmt: skip
    (tag,) = federation.batch()
    federation.set_clock(None)
    run = download.run_download(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    batch = InboundBatch.objects.get()
    assert (batch.batch_tag, batch.status) == (tag, InboundBatch.Status.EMPTY)
    assert batch.batch_date == yesterday.date()


def test_only_a_known_onset_reaches_phones_as_days_since_onset(
    db: None, federation: GatewayHandle
) -> None:
    # 2000/3000/4000 + d count from the submission, n*100 + d within a range of onset days:
    # phones would read them as days since a known onset. Only -14..14 is one.
    values = {3: 3, -2: -2, 3002: None, 4000: None, 2001: None, 705: None}
    sent = {}
    for value in values:
        (key_data,) = _upload(federation, 1, dsos_value=value)
        sent[key_data] = value
    federation.batch()
    run = download.run_download(sleep=_no_sleep)
    assert run is not None and run.keys_received == len(values), run.message
    published = {
        bytes(row.key_data): row.days_since_onset_of_symptoms for row in ReceivedKey.objects.all()
    }
    assert {key_data: published[key_data] for key_data in sent} == {
        key_data: values[value] for key_data, value in sent.items()
    }
