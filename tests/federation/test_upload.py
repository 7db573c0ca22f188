"""Our upload against the test gateway over mutual TLS: every key reaches the gateway exactly once."""

from __future__ import annotations

import base64
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from authority.federation import metrics, upload
from authority.federation.client import GatewayClient
from authority.federation.models import FederationRun, OutboundBatch, OutboundKey
from authority.federation.sharing import offer_for_sharing
from authority.formats.efgs.batch import DiagnosisKey
from authority.statistics.models import DailyCounter
from tests.federation.conftest import GatewayHandle, day_start


@dataclass(frozen=True)
class Key:
    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int = 144


def _offer(count: int, *, countries: tuple[str, ...] = ("DE", "FR"), days_ago: int = 3,
           onset: date | None = None) -> list[Key]:  # fmt: skip
    keys = [Key(os.urandom(16), day_start(days_ago)) for _ in range(count)]
    today = datetime.now(UTC).date()
    offer_for_sharing(keys=keys, countries=list(countries),
                      onset_date=onset or today - timedelta(days=days_ago), uploaded_on=today)  # fmt: skip
    return keys


def _gateway_keys(gateway: GatewayHandle, origin: str = "IT") -> list[dict[str, Any]]:
    return [key for key in gateway.state()["keys"] if key["origin"] == origin]


def _counter(metric: str, bucket: str = "") -> int:
    return sum(
        DailyCounter.objects.filter(metric=metric, bucket=bucket).values_list("value", flat=True)
    )


def _no_sleep(_seconds: float) -> None:
    return None


def test_keys_are_shared_with_the_countries_the_patient_visited(
    db: None, federation: GatewayHandle
) -> None:
    keys = _offer(3, countries=("FR", "DE", "IT", "XX", "DE"))
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    stored = _gateway_keys(federation)
    assert sorted(base64.b64decode(k["key_data"]) for k in stored) == sorted(
        k.key_data for k in keys
    )
    # Our country and unknown codes are not among the visited countries; the order is fixed.
    assert {tuple(k["visited_countries"]) for k in stored} == {("DE", "FR")}
    assert {k["transmission_risk_level"] for k in stored} == {0x7FFFFFFF}
    assert {k["days_since_onset_of_symptoms"] for k in stored} == {0}
    assert {k["report_type"] for k in stored} == {1}
    assert run.keys_shared == 3
    assert _counter(metrics.KEYS_SHARED) == 3
    assert _counter(metrics.KEYS_SHARED_WITH, "DE") == 3
    assert _counter(metrics.KEYS_SHARED_WITH, "FR") == 3
    # A second run has nothing left to send.
    assert upload.run_upload(sleep=_no_sleep).status == FederationRun.Status.SUCCEEDED
    assert len(_gateway_keys(federation)) == 3
    assert [r["status"] for r in federation.state()["requests"]] == [201]


def test_keys_wait_until_they_are_no_longer_valid_plus_the_embargo(
    db: None, federation: GatewayHandle
) -> None:
    today_key = Key(os.urandom(16), day_start(0))
    offer_for_sharing(keys=[today_key], countries=["DE"], onset_date=None,
                      uploaded_on=datetime.now(UTC).date())  # fmt: skip
    upload.run_upload(sleep=_no_sleep)
    assert _gateway_keys(federation) == []
    assert OutboundKey.objects.get().batch is None


def test_keys_wait_until_a_batch_would_not_single_out_a_patient(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    settings.FEDERATION_UPLOAD_MIN_KEYS = 150
    _offer(14)
    upload.run_upload(sleep=_no_sleep)
    assert _gateway_keys(federation) == []
    _offer(140)
    upload.run_upload(sleep=_no_sleep)
    assert len(_gateway_keys(federation)) == 154


def test_nothing_is_shared_without_a_country_we_share_with(
    db: None, federation: GatewayHandle
) -> None:
    _offer(2, countries=("IT", "US"))
    _offer(2, countries=())
    assert OutboundKey.objects.count() == 0


def test_an_asymptomatic_patients_days_are_counted_in_the_gateways_asymptomatic_range(
    db: None, federation: GatewayHandle
) -> None:
    today = datetime.now(UTC).date()
    key = Key(os.urandom(16), day_start(4))
    offer_for_sharing(keys=[key], countries=["DE"], onset_date=today - timedelta(days=2),
                      onset_kind="test", uploaded_on=today)  # fmt: skip
    unknown = Key(os.urandom(16), day_start(5))
    offer_for_sharing(keys=[unknown], countries=["DE"], onset_date=None, uploaded_on=today)
    upload.run_upload(sleep=_no_sleep)
    by_key = {base64.b64decode(k["key_data"]): k for k in _gateway_keys(federation)}
    # Both counted from the upload (days since submission), not from the test.
    assert by_key[key.key_data]["days_since_onset_of_symptoms"] == 3000 - 4
    assert by_key[unknown.key_data]["days_since_onset_of_symptoms"] == 4000 - 5


def test_more_than_5000_keys_go_in_batches_the_gateway_accepts(
    db: None, federation: GatewayHandle
) -> None:
    _offer(5001)
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert sorted(OutboundBatch.objects.values_list("key_count", flat=True)) == [2500, 2501]
    assert set(OutboundBatch.objects.values_list("status", flat=True)) == {
        OutboundBatch.Status.SHARED
    }
    stored = _gateway_keys(federation)
    assert len(stored) == 5001
    assert len({k["key_data"] for k in stored}) == 5001
    assert [r["status"] for r in federation.state()["requests"]] == [201, 201]


def test_a_207_sends_again_all_but_the_keys_already_on_the_gateway(
    db: None, federation: GatewayHandle
) -> None:
    keys = _offer(3)
    # One of them reached the gateway already (say, restored from a backup and offered again).
    row = OutboundKey.objects.get(key_data=keys[0].key_data)
    already = DiagnosisKey(
        key_data=keys[0].key_data, rolling_start_interval_number=row.rolling_start_interval_number,
        rolling_period=144, transmission_risk_level=row.transmission_risk_level,
        visited_countries=("DE", "FR"), origin="IT", report_type=1,
        days_since_onset_of_symptoms=row.days_since_onset_of_symptoms,
    )  # fmt: skip
    assert federation.upload_as([already], client="it-tls", signer="it-signing").status_code == 201

    run = upload.run_upload(sleep=_no_sleep)

    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert [r["status"] for r in federation.state()["requests"]] == [201, 207, 201]
    stored = Counter(k["key_data"] for k in _gateway_keys(federation))
    assert sorted(stored.values()) == [1, 1, 1]
    first, second = OutboundBatch.objects.order_by("id")
    assert (first.status, first.key_count, first.last_status) == (
        OutboundBatch.Status.ALREADY_SHARED,
        1,
        207,
    )
    assert (second.status, second.key_count) == (OutboundBatch.Status.SHARED, 2)
    assert first.batch_tag != second.batch_tag
    assert _counter(metrics.KEYS_SHARED) == 2


def test_a_timeout_after_the_gateway_stored_the_batch_shares_no_key_twice(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    # The gateway answers in well under 2 s, except when told to stall after storing.
    settings.FEDERATION_TIMEOUT_SECONDS = 2
    federation.fault("upload", "stall_after_store", stall_seconds=6)
    _offer(4)

    run = upload.run_upload(sleep=_no_sleep)

    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    # The first answer never came; the retry under the same tag heard "already exists".
    assert [r["status"] for r in federation.state()["requests"]] == [201, 409]
    assert len(_gateway_keys(federation)) == 4
    batch = OutboundBatch.objects.get()
    assert (batch.status, batch.attempts, batch.last_status) == (
        OutboundBatch.Status.SHARED,
        2,
        409,
    )
    assert _counter(metrics.KEYS_SHARED) == 4


def test_a_worker_that_dies_after_sending_leaves_a_batch_the_next_run_finishes(
    db: None, federation: GatewayHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    _offer(3)
    real_upload = GatewayClient.upload

    class WorkerKilled(BaseException):
        pass

    def upload_then_die(self: GatewayClient, **kwargs: Any) -> Any:
        real_upload(self, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(GatewayClient, "upload", upload_then_die)
    with pytest.raises(WorkerKilled):
        upload.run_upload(sleep=_no_sleep)
    monkeypatch.setattr(GatewayClient, "upload", real_upload)
    batch = OutboundBatch.objects.get()
    assert batch.status == OutboundBatch.Status.PENDING

    # Until the dead worker's lease runs out the batch is left alone; then it is sent again.
    upload.run_upload(sleep=_no_sleep)
    assert len(federation.state()["requests"]) == 1
    with time_machine.travel(datetime.now(UTC) + upload.LEASE + timedelta(minutes=1)):
        run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (OutboundBatch.Status.SHARED, 2)
    assert [r["status"] for r in federation.state()["requests"]] == [201, 409]
    assert len(_gateway_keys(federation)) == 3


def test_a_gateway_that_does_not_answer_keeps_the_batch_and_its_tag_for_the_next_run(
    db: None, federation: GatewayHandle
) -> None:
    _offer(2)
    federation.fault("upload", "drop_after_store", "drop_after_store", "drop_after_store")
    run = upload.run_upload(sleep=_no_sleep)
    # The second and third tries were answered 409 (stored by the first): shared, once.
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert [r["status"] for r in federation.state()["requests"]] == [201, 409]
    assert len(_gateway_keys(federation)) == 2


def test_a_400_releases_the_keys_for_a_later_run(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    _offer(2)
    pki = federation.pki
    settings.FEDERATION_SIGNING_CERT_FILE, settings.FEDERATION_SIGNING_KEY_FILE = pki.pair(
        "it-unregistered-signing"
    )
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    refused = OutboundBatch.objects.get()
    assert (refused.status, refused.last_status) == (OutboundBatch.Status.REFUSED, 400)
    assert "Invalid signature" in refused.message
    assert OutboundKey.objects.filter(batch__isnull=True).count() == 2
    assert _counter(metrics.UPLOADS_REFUSED, "400") == 1

    settings.FEDERATION_SIGNING_CERT_FILE, settings.FEDERATION_SIGNING_KEY_FILE = pki.pair(
        "it-signing"
    )
    upload.run_upload(sleep=_no_sleep)
    assert len(_gateway_keys(federation)) == 2


def test_a_client_certificate_the_gateway_refuses_stops_the_run_and_keeps_the_tag(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    _offer(2)
    settings.FEDERATION_TLS_CERT_FILE, settings.FEDERATION_TLS_KEY_FILE = federation.pki.pair(
        "it-unregistered-tls"
    )
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.FAILED
    assert "does not accept our client certificate" in run.message
    batch = OutboundBatch.objects.get()
    assert (batch.status, batch.last_status) == (OutboundBatch.Status.PENDING, 403)

    settings.FEDERATION_TLS_CERT_FILE, settings.FEDERATION_TLS_KEY_FILE = federation.pki.pair(
        "it-tls"
    )
    upload.run_upload(sleep=_no_sleep)
    batch.refresh_from_db()
    assert batch.status == OutboundBatch.Status.SHARED
    assert federation.state()["requests"][-1]["batchTag"] == batch.batch_tag


def test_a_413_splits_the_batch(db: None, federation: GatewayHandle) -> None:
    federation.settings(upload_limit=3)
    _offer(5)
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert [r["status"] for r in federation.state()["requests"]] == [413, 201, 201]
    assert len(_gateway_keys(federation)) == 5


def test_a_409_to_the_first_request_of_a_tag_means_someone_elses_tag(
    db: None, federation: GatewayHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.federation.test_gateway import _keys

    assert federation.upload_as(_keys(1), batch_tag="IT-taken").status_code == 201
    tags = iter(["IT-taken", "IT-fresh"])
    monkeypatch.setattr(upload, "new_batch_tag", lambda country: next(tags))
    _offer(2)
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert [(r["batchTag"], r["status"]) for r in federation.state()["requests"][1:]] == [
        ("IT-taken", 409),
        ("IT-fresh", 201),
    ]
    assert len(_gateway_keys(federation)) == 2


def test_federation_off_shares_nothing_and_keeps_the_consent_for_when_it_is_on(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    url = settings.FEDERATION_GATEWAY_URL
    settings.FEDERATION_GATEWAY_URL = ""
    keys = _offer(3)
    assert OutboundKey.objects.count() == 3
    assert upload.run_upload(sleep=_no_sleep) is None
    assert FederationRun.objects.count() == 0
    assert federation.state()["requests"] == []
    # Switched on: the keys of the last days, still useful to travellers, are shared.
    settings.FEDERATION_GATEWAY_URL = url
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    assert sorted(base64.b64decode(k["key_data"]) for k in _gateway_keys(federation)) == sorted(
        key.key_data for key in keys
    )


def test_a_500_is_retried_under_the_same_tag(db: None, federation: GatewayHandle) -> None:
    federation.fault("upload", "error_500")
    _offer(2)
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    requests = federation.state()["requests"]
    assert [r["status"] for r in requests] == [500, 201]
    assert requests[0]["batchTag"] == requests[1]["batchTag"]
    assert OutboundBatch.objects.get().attempts == 2


def test_a_gateway_that_never_answers_fails_the_run_and_keeps_the_batch(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    federation.fault("upload", "error_500", "error_500", "error_500")
    _offer(2)
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.FAILED
    assert "did not answer" in run.message
    batch = OutboundBatch.objects.get()
    assert (batch.status, batch.attempts) == (OutboundBatch.Status.PENDING, 3)
    assert upload.run_upload(sleep=_no_sleep).status == FederationRun.Status.SUCCEEDED
    batch.refresh_from_db()
    assert batch.status == OutboundBatch.Status.SHARED
    assert len(_gateway_keys(federation)) == 2
