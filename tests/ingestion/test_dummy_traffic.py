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


@override_settings(DEVICE_API_MIN_RESPONSE_MS=120, DEVICE_API_RESPONSE_SPREAD_MS=0)
def test_real_and_dummy_responses_wait_for_the_same_floor(app_client, authorized_otp):
    for dummy in (True, False):
        started = time.monotonic()
        app_client.check_otp(authorized_otp if not dummy else None, dummy=dummy)
        assert time.monotonic() - started >= 0.12


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
