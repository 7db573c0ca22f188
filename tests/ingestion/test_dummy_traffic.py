"""Dummy requests: validated like real ones, identical on the wire, stored nowhere but a counter."""

from __future__ import annotations

import hashlib
import json
import secrets
import time

import pytest
from django.test import override_settings

from authority.formats.otp import generate_otp, otp_sha256_hex
from authority.ingestion import metrics
from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from authority.statistics.models import DailyCounter
from tests.ingestion.conftest import upload_body

pytestmark = pytest.mark.django_db


def wire(response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Everything a network observer of the decrypted exchange would see, but the date."""
    headers = sorted((k, v) for k, v in response.headers.items() if k.lower() != "date")
    return response.status_code, headers, response.content


def test_dummy_and_real_successes_are_byte_identical(app_client, authorized_otp):
    real_check = app_client.check_otp(authorized_otp)
    dummy_check = app_client.check_otp(None, dummy=True)
    assert wire(real_check) == wire(dummy_check)
    real_upload = app_client.upload(authorized_otp)
    dummy_upload = app_client.upload(None, dummy=True)
    assert real_upload.status_code == 204
    assert wire(real_upload) == wire(dummy_upload)


def test_dummy_requests_change_nothing_but_a_counter(app_client, authorized_otp):
    before = {model: model.objects.count() for model in (ExposureKey, Otp)}
    assert app_client.upload(authorized_otp, dummy=True).status_code == 204
    assert app_client.check_otp(authorized_otp, dummy=True).status_code == 204
    assert {model: model.objects.count() for model in (ExposureKey, Otp)} == before
    assert Otp.objects.get().state == OtpState.PENDING
    counters = dict(
        DailyCounter.objects.values_list("bucket", "value").filter(metric=metrics.DUMMY_REQUESTS)
    )
    assert counters == {metrics.UPLOAD: 1, metrics.CHECK_OTP: 1}
    assert not DailyCounter.objects.filter(metric=metrics.UPLOADS).exists()


def test_dummy_requests_are_validated_like_real_ones(app_client, authorized_otp):
    real = app_client.upload(authorized_otp, upload_body(province="XX"))
    dummy = app_client.upload(None, upload_body(province="XX"), dummy=True)
    assert real.status_code == dummy.status_code == 400
    assert real.json() == dummy.json()


class HeldResponses:
    """Stands in for the clock the device views read (a test never sleeps): it records what
    each response was held for, and stands still, so a request's own work takes no time on it
    however busy the machine is (each answer is held for its whole target: on the real clock
    a slow request on a loaded machine needed no hold at all, and the count came out short)."""

    def __init__(self) -> None:
        self.held: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.held.append(seconds)

    @staticmethod
    def monotonic() -> float:
        return 1_000.0


@pytest.fixture
def held(monkeypatch) -> HeldResponses:
    from authority.api import device, timing

    clock = HeldResponses()
    monkeypatch.setattr(timing, "time", clock)
    monkeypatch.setattr(device, "time", clock)
    return clock


def every_device_request(app_client, authorized_otp, lazio) -> list[object]:
    from tests.ingestion.test_operational_info import APPLE, GOOGLE, google, post
    from tests.ingestion.test_operational_info import report as app_report

    token = secrets.token_hex(64)
    return [
        app_client.check_otp(authorized_otp),
        app_client.check_otp(None, dummy=True),
        app_client.check_otp(generate_otp()),  # a 401
        app_client.upload(None, dummy=True),
        app_client.upload(authorized_otp),
        app_client.upload(authorized_otp, upload_body(province="XX")),  # a 400
        post(GOOGLE, google()),
        post(GOOGLE, google(), dummy=True),
        post(APPLE, app_report(), HTTP_AUTHORIZATION=f"Bearer {token}"),
        post(APPLE, app_report(), dummy=True, HTTP_AUTHORIZATION=f"Bearer {token}"),
    ]


@override_settings(DEVICE_API_MIN_RESPONSE_MS=120, DEVICE_API_RESPONSE_SPREAD_MS=100)
def test_every_device_answer_is_held_to_a_delay_drawn_from_one_distribution(
    app_client, authorized_otp, lazio, held
):
    # Real or dummy, success or error, ingestion or analytics: each answer is held until a
    # target drawn from [floor, floor + spread) has passed since the request came in.
    started = time.monotonic()
    responses = every_device_request(app_client, authorized_otp, lazio)
    elapsed = time.monotonic() - started
    assert [response.status_code for response in responses] == [  # type: ignore[attr-defined]
        *(204, 204, 401, 204, 204, 400, 204, 204, 204, 204)
    ]
    assert len(held.held) == len(responses)
    # Each hold is at most the target, and the requests' own work plus the holds reach at
    # least the floor for each: no answer leaves earlier than the floor.
    assert all(0 < seconds <= 0.22 for seconds in held.held)
    assert sum(held.held) + elapsed >= 0.12 * len(responses)
    # The spread is used: ten draws from 100 ms are not all one value.
    assert len({round(seconds, 4) for seconds in held.held}) > 1


@override_settings(DEVICE_API_MIN_RESPONSE_MS=0, DEVICE_API_RESPONSE_SPREAD_MS=0)
def test_without_a_floor_no_answer_is_held(app_client, authorized_otp, lazio, held):
    every_device_request(app_client, authorized_otp, lazio)
    assert held.held == []


def test_a_throttled_dummy_counts_as_a_dummy_not_as_a_throttled_request(
    app_client, settings, one_throttle_window
):
    settings.DEVICE_API_RATES = {**settings.DEVICE_API_RATES, "check-otp": "1/minute"}
    statuses = [app_client.check_otp(None, dummy=True).status_code for _ in range(3)]
    assert statuses == [204, 429, 429]  # refused like a real request (DESIGN.md 3.7)
    counts = DailyCounter.objects.filter(bucket=metrics.CHECK_OTP)
    assert dict(counts.values_list("metric", "value")) == {metrics.DUMMY_REQUESTS: 3}
    # A real request refused at the throttle is a throttled request.
    assert app_client.check_otp(generate_otp()).status_code == 429
    assert dict(counts.values_list("metric", "value")) == {
        metrics.DUMMY_REQUESTS: 3,
        metrics.THROTTLED_REQUESTS: 1,
    }


@override_settings(DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT=100)
def test_a_dummy_check_may_get_the_401_of_a_mistyped_code_byte_for_byte(app_client, operator):
    # Immuni answered DUMMY_DATA_TOKEN_ERROR_CHANCE_PERCENT (1) of its dummy checks 401
    # (exposure-ingestion apis/ingestion.py, check_otp): were dummies always 204, every 401
    # would be a real person entering a code. 100 here, so that the test sees it.
    real = app_client.check_otp(generate_otp())
    dummy = app_client.check_otp(None, dummy=True)
    assert real.status_code == 401
    assert wire(dummy) == wire(real)
    failed = DailyCounter.objects.filter(metric=metrics.FAILED_OTP_CHECKS)
    assert sum(failed.values_list("value", flat=True)) == 1  # the real one only


@override_settings(DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT=0)
def test_with_no_share_a_dummy_check_is_always_204(app_client):
    assert {app_client.check_otp(None, dummy=True).status_code for _ in range(20)} == {204}


def test_a_dummy_upload_is_never_401(app_client, settings):
    # Immuni answered dummy uploads 204 only: a real upload is 401 only after a successful
    # check-otp, which the app does first, so a 401 upload is no pattern to hide.
    settings.DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT = 100
    assert app_client.upload(None, dummy=True).status_code == 204


def test_the_ios_apps_dummy_upload_is_answered_as_a_real_upload(app_client, authorized_otp):
    # immuni-app-ios DummyIngestionRequest: an upload with padding only, the client clock at
    # 0, the SHA-256 of a random code (Immuni's reverse proxy answered it 204).
    real = app_client.upload(authorized_otp)
    dummy = app_client.post(
        "/v1/ingestion/upload",
        {"padding": secrets.token_hex(1000)},
        otp=generate_otp(),
        dummy=True,
        HTTP_IMMUNI_CLIENT_CLOCK="0",
    )
    assert real.status_code == 204
    assert wire(dummy) == wire(real)
    assert ExposureKey.objects.count() == 14  # the real upload's keys only


def test_the_android_apps_dummy_upload_is_answered_as_a_real_one(app_client, authorized_otp):
    # immuni-app-android ExposureIngestionRepository.dummyUpload: a check-otp with padding
    # only and the SHA-256 of "DUMMY".
    real_check = app_client.check_otp(authorized_otp)
    dummy = app_client.client.post(
        "/v1/ingestion/check-otp",
        data=json.dumps({"padding": "0" * 5000}),
        content_type="application/json; charset=UTF-8",
        HTTP_AUTHORIZATION=f"Bearer {hashlib.sha256(b'DUMMY').hexdigest()}",
        HTTP_IMMUNI_DUMMY_DATA="1",
    )
    assert wire(dummy) == wire(real_check) == wire(app_client.upload(authorized_otp))


def test_a_request_without_the_dummy_header_is_refused_not_taken_as_real(
    app_client, authorized_otp
):
    response = app_client.upload(authorized_otp, HTTP_IMMUNI_DUMMY_DATA="")
    del_header = app_client.client.post(
        "/v1/ingestion/upload",
        data=json.dumps(upload_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {otp_sha256_hex(authorized_otp)}",
        HTTP_IMMUNI_CLIENT_CLOCK="1767225600",
    )
    for answer in (response, del_header):
        assert answer.status_code == 400
        assert answer.json()["error_code"] == 1001
    assert Otp.objects.get().state == OtpState.PENDING
    assert not ExposureKey.objects.exists()
