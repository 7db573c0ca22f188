"""Dummy requests: validated like real ones, identical on the wire, stored nowhere but a counter."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings

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
