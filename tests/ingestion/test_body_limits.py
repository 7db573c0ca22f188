"""Each device endpoint takes its largest valid request, as the apps encode it, and not much more.

The largest valid request: every list at its cap, every figure at its largest, 150,000
characters of padding (Immuni's limit; the apps pad to 110,000 bytes by default). Its size
must fit the endpoint's limit, and the limit must not be far above it (10%): a body the
schema could never accept is refused before it is read whole. One byte over: 413 with the
error body.
"""

from __future__ import annotations

import json
import secrets
from base64 import b64encode
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import resolve

from authority.formats.otp import otp_sha256_hex
from authority.ingestion.analytics.serializers import (
    MAX_ANDROID_BUILD,
    MAX_DEVICE_TOKEN,
    MAX_IOS_BUILD,
    MAX_SIGNED_ATTESTATION,
)
from authority.ingestion.fields import MAX_PADDING
from authority.ingestion.key_rules import current_interval
from authority.ingestion.serializers import (
    LARGEST_FIGURE,
    MAX_COUNTRIES,
    MAX_EXPOSURE_INFOS,
    MAX_KEYS,
    MAX_SUMMARIES,
    TRANSMISSION_RISK_LEVELS,
)
from authority.keys.models import ExposureKey
from authority.statistics.services import local_day

pytestmark = pytest.mark.django_db

CHECK_OTP = "/v1/ingestion/check-otp"
UPLOAD = "/v1/ingestion/upload"
GOOGLE = "/v1/analytics/google/operational-info"
APPLE = "/v1/analytics/apple/operational-info"
APPLE_TOKEN = "/v1/analytics/apple/token"
PADDING = "0" * MAX_PADDING


def compact(body: dict[str, Any]) -> bytes:
    """As the apps' JSON encoders write it: no spaces."""
    return json.dumps(body, separators=(",", ":")).encode()


def largest_upload() -> dict[str, Any]:
    today = local_day().isoformat()
    # 30 keys in the 14 days a phone keeps, back to back: 30 x 67 intervals of 2,016.
    oldest = (current_interval() // 144 - 14) * 144
    teks = [
        {
            "key_data": b64encode(secrets.token_bytes(16)).decode(),
            "rolling_start_number": oldest + 67 * index,
            "rolling_period": 67,
        }
        for index in range(MAX_KEYS)
    ]
    info = {
        "date": today,
        "duration": LARGEST_FIGURE,
        "attenuation_value": LARGEST_FIGURE,
        "attenuation_durations": [LARGEST_FIGURE] * 4,
        "transmission_risk_level": TRANSMISSION_RISK_LEVELS,
        "total_risk_score": LARGEST_FIGURE,
    }
    per_summary, rest = divmod(MAX_EXPOSURE_INFOS, MAX_SUMMARIES)
    summaries: list[dict[str, Any]] = [
        {
            "date": today,
            "matched_key_count": LARGEST_FIGURE,
            "days_since_last_exposure": LARGEST_FIGURE,
            "attenuation_durations": [LARGEST_FIGURE] * 4,
            "maximum_risk_score": LARGEST_FIGURE,
            "exposure_info": [info] * (per_summary + (1 if index < rest else 0)),
        }
        for index in range(MAX_SUMMARIES)
    ]
    assert sum(len(summary["exposure_info"]) for summary in summaries) == MAX_EXPOSURE_INFOS
    return {
        "province": "RM",
        "teks": teks,
        "exposure_detection_summaries": summaries,
        "countries_of_interest": ["DE"] * MAX_COUNTRIES,
        "padding": PADDING,
    }


def largest_report() -> dict[str, Any]:
    return {
        "province": "RM",
        "exposure_permission": 1,
        "bluetooth_active": 1,
        "notification_permission": 1,
        "exposure_notification": 1,
        "last_risky_exposure_on": local_day().isoformat(),
        "build": MAX_IOS_BUILD,
        "padding": PADDING,
    }


def largest_google_report() -> dict[str, Any]:
    return {
        **largest_report(),
        "build": MAX_ANDROID_BUILD,  # the Android app's versionCode
        "salt": b64encode(secrets.token_bytes(16)).decode(),
        "signed_attestation": "x" * MAX_SIGNED_ATTESTATION,
    }


def largest_token_request() -> dict[str, Any]:
    device_token = b64encode(secrets.token_bytes(MAX_DEVICE_TOKEN // 4 * 3)).decode()
    assert len(device_token) == MAX_DEVICE_TOKEN
    return {
        "analytics_token": secrets.token_hex(64),
        "device_token": device_token,
        "padding": PADDING,
    }


LARGEST = {
    CHECK_OTP: lambda: {"padding": PADDING},
    UPLOAD: largest_upload,
    GOOGLE: largest_google_report,
    APPLE: largest_report,
    APPLE_TOKEN: largest_token_request,
}
SUCCESS = {CHECK_OTP: 204, UPLOAD: 204, GOOGLE: 204, APPLE: 204, APPLE_TOKEN: 202}


def send(path: str, body: bytes, otp: str | None = None):
    bearer = otp_sha256_hex(otp) if otp else secrets.token_hex(64 if path == APPLE else 32)
    return Client().post(
        path,
        data=body,
        content_type="application/json; charset=UTF-8",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_IMMUNI_CLIENT_CLOCK="1767225600",
    )


def limit_of(path: str) -> int:
    view = resolve(path).func
    assert hasattr(view, "view_class"), f"{path} is not served by a class-based view"
    return view.view_class.max_body_bytes


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    cache.clear()


@pytest.mark.parametrize("path", list(LARGEST))
def test_the_largest_valid_request_is_accepted_and_the_limit_agrees(path, regions, authorized_otp):
    body = compact(LARGEST[path]())
    assert len(body) <= limit_of(path) <= len(body) * 1.10
    response = send(path, body, authorized_otp if path in (CHECK_OTP, UPLOAD) else None)
    assert response.status_code == SUCCESS[path], response.content[:300]
    if path == UPLOAD:
        assert ExposureKey.objects.count() == MAX_KEYS


@pytest.mark.parametrize("path", list(LARGEST))
def test_one_byte_over_the_limit_is_413_with_the_error_body(path, regions):
    body = compact(LARGEST[path]())
    over = limit_of(path) + 1 - len(body)
    padded = body[: -len(b'"}')] + b"0" * over + b'"}'
    assert len(padded) == limit_of(path) + 1
    response = send(path, padded)
    assert response.status_code == 413
    assert response.json() == {
        "error_code": 1001,
        "message": f"The request body is larger than {limit_of(path)} bytes.",
    }
    assert response["Cache-Control"] == "no-store"


def test_a_request_padded_as_the_apps_do_is_accepted(app_client, authorized_otp):
    """The apps pad a request to teks_packet_size (110,000 bytes by default), path and
    headers included, with "0"s (Android) or random lowercase hex digits (iOS)."""
    for padding in ("0" * 109_000, secrets.token_hex(54_500)):
        response = app_client.post(CHECK_OTP, {"padding": padding}, otp=authorized_otp, dummy=False)
        assert response.status_code == 204
