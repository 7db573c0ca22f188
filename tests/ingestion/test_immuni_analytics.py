"""Immuni's own tests of the apps' operational info and of the iOS token, ported case by case.

Sources (immuni-app/immuni-backend-analytics): tests/apis/test_google_operational_info.py,
tests/apis/test_apple_operational_info.py and tests/apis/test_apple_token.py. Immuni queued
each counted report for a worker; here a counted report is in the daily counters at once.
Immuni's tests froze the clock on their fixtures' dates; these use dates relative to today.
"""

from __future__ import annotations

import json
import secrets
from base64 import b64encode
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from wsgiref.types import WSGIEnvironment

import pytest
from django.core.cache import cache
from django.test import Client

from authority.accounts.models import Province
from authority.ingestion.analytics import services
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day

pytestmark = pytest.mark.django_db

GOOGLE = "/v1/analytics/google/operational-info"
APPLE = "/v1/analytics/apple/operational-info"
APPLE_TOKEN = "/v1/analytics/apple/token"
MAX_ALLOWED_BUILD = 20_000  # immuni_common/core/config.py, the default: kept for iOS builds
# The Android app sends its versionCode as `build` (2,6xx,xxx for Immuni 2.6.0), which no
# Android report could carry under that default: here Android builds go up to Google Play's
# largest versionCode (a deliberate difference, docs/compatibility.md).
MAX_ANDROID_BUILD = 2_100_000_000


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def counted(metric: str = "app_reports", **key: object) -> int:
    return sum(DailyCounter.objects.filter(metric=metric, **key).values_list("value", flat=True))


def post_body_with_exposure() -> dict[str, Any]:
    """POST_BODY_WITH_EXPOSURE (tests/fixtures/safety_net.py), with a fresh salt and date."""
    return {
        "province": "CH",
        "exposure_permission": 1,
        "bluetooth_active": 1,
        "notification_permission": 1,
        "exposure_notification": 1,
        "last_risky_exposure_on": (local_day() - timedelta(days=1)).isoformat(),
        "salt": b64encode(secrets.token_bytes(16)).decode(),
        "signed_attestation": "eyJhbGciOiJSUzI1NiJ9.eyJub25jZSI6IjJvcFoifQ.c2lnbmF0dXJl",
    }


def post_body_without_exposure() -> dict[str, Any]:
    return {**post_body_with_exposure(), "exposure_notification": 0}


def operational_info() -> dict[str, Any]:
    """OPERATIONAL_INFO (tests/fixtures/operational_info.py): what the iOS app sends."""
    return {
        "province": "CH",
        "exposure_permission": 0,
        "bluetooth_active": 1,
        "notification_permission": 1,
        "exposure_notification": 1,
        "last_risky_exposure_on": (local_day() - timedelta(days=1)).isoformat(),
    }


def google_headers() -> dict[str, str]:
    return {"HTTP_IMMUNI_DUMMY_DATA": "0"}


@pytest.fixture
def analytics_token() -> str:
    return secrets.token_hex(64)


def apple_headers(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_IMMUNI_DUMMY_DATA": "0"}


def post(path: str, body: Any, headers: WSGIEnvironment):
    return Client().post(
        path,
        data=json.dumps(body),
        content_type="application/json; charset=utf-8",
        **headers,
    )


def assert_schema_error(response) -> None:
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


@pytest.fixture
def abruzzo(regions) -> int:
    return Province.objects.get(code="CH").region_id


def authorized(token: str) -> str:
    """What Immuni's tests put in Redis by hand: the token authorized for this month."""
    services.authorize_apple_token(analytics_token=token, device_token="dGVzdA==")
    return token


# --- tests/apis/test_google_operational_info.py -----------------------------------------------


def test_immuni_analytics_google_operational_info_with_exposure(abruzzo):
    body = post_body_with_exposure()
    response = post(GOOGLE, body, google_headers())
    assert response.status_code == 204
    assert counted(region_id=abruzzo, bucket="android") == 1
    assert counted("exposure_notifications", region_id=abruzzo) == 1
    assert counted("exposure_permission_on", region_id=abruzzo) == 1
    # The salt is used: the same report again does not count (Immuni kept it in Redis).
    post(GOOGLE, body, google_headers())
    assert counted() == 1


def test_immuni_analytics_google_operational_info_without_exposure(abruzzo):
    response = post(GOOGLE, post_body_without_exposure(), google_headers())
    assert response.status_code == 204
    assert counted(region_id=abruzzo, bucket="android") == 1
    assert counted("exposure_notifications") == 0


def test_immuni_analytics_google_operational_info_dummy(abruzzo):
    body = post_body_with_exposure()
    response = post(GOOGLE, body, {"HTTP_IMMUNI_DUMMY_DATA": "1"})
    assert response.status_code == 204
    assert counted() == 0
    # The dummy's salt was not recorded: the same report, real, counts.
    assert post(GOOGLE, body, google_headers()).status_code == 204
    assert counted() == 1


def test_immuni_analytics_google_operational_info_used_salt(abruzzo):
    body = post_body_with_exposure()
    assert post(GOOGLE, body, google_headers()).status_code == 204
    assert post(GOOGLE, body, google_headers()).status_code == 204
    assert counted() == 1
    assert counted("app_reports_refused", bucket="repeat") == 1


@pytest.mark.parametrize("excluded", list(post_body_with_exposure()))
def test_immuni_analytics_google_operational_info_bad_request(abruzzo, excluded):
    body = {k: v for k, v in post_body_with_exposure().items() if k != excluded}
    assert_schema_error(post(GOOGLE, body, google_headers()))
    assert counted() == 0


@pytest.mark.parametrize("dummy_header", ["random", "-1", ""])
def test_immuni_analytics_upload_bad_request_dummy_header(abruzzo, dummy_header):
    response = post(GOOGLE, post_body_with_exposure(), {"HTTP_IMMUNI_DUMMY_DATA": dummy_header})
    assert_schema_error(response)
    assert counted() == 0


def test_immuni_analytics_a_report_without_the_dummy_header_is_not_taken_as_real(abruzzo):
    assert_schema_error(post(GOOGLE, post_body_with_exposure(), {}))
    assert counted() == 0


@pytest.mark.parametrize("province", ["asd", "ZZZ", "", None])
def test_immuni_analytics_invalid_province(abruzzo, province):
    body = {**post_body_with_exposure(), "province": province}
    assert_schema_error(post(GOOGLE, body, google_headers()))
    assert counted() == 0


@pytest.mark.parametrize("last_risky_exposure_on", ["1970-01-01", "ZZZ", "", None])
def test_immuni_analytics_invalid_last_risky_exposure(abruzzo, last_risky_exposure_on):
    body = {**post_body_with_exposure(), "last_risky_exposure_on": last_risky_exposure_on}
    assert_schema_error(post(GOOGLE, body, google_headers()))
    assert counted() == 0


@pytest.mark.parametrize(
    "field",
    ["exposure_permission", "bluetooth_active", "notification_permission", "exposure_notification"],
)
@pytest.mark.parametrize(
    "value", [-1, None, "", "string", {}], ids=["-1", "None", "empty", "str", "dict"]
)
def test_immuni_analytics_invalid_integer_booleans(abruzzo, field, value):
    body = {**post_body_with_exposure(), field: value}
    assert_schema_error(post(GOOGLE, body, google_headers()))
    assert counted() == 0


# Deliberate difference: Immuni's case was MAX_ALLOWED_BUILD + 1 (20,001), a valid Android
# build here; the largest versionCode + 1 takes its place.
@pytest.mark.parametrize("bad_build", [None, 0, MAX_ANDROID_BUILD + 1])
def test_immuni_analytics_invalid_build(abruzzo, bad_build):
    body = {**post_body_with_exposure(), "build": bad_build}
    assert_schema_error(post(GOOGLE, body, google_headers()))
    assert counted() == 0


@pytest.mark.parametrize("build", range(1, MAX_ALLOWED_BUILD, MAX_ALLOWED_BUILD // 5))
def test_immuni_analytics_valid_build(abruzzo, build):
    body = {**post_body_without_exposure(), "build": build}
    assert post(GOOGLE, body, google_headers()).status_code == 204
    assert counted(region_id=abruzzo) == 1


@pytest.mark.parametrize("build", [20_001, 1_000_000, 2_600_123, MAX_ANDROID_BUILD])
def test_an_android_report_carries_the_apps_version_code(abruzzo, build):
    """What the shipped Android app sends as `build`: BuildConfig.VERSION_CODE (Immuni 2.6.0:
    2,600,000 + its CI build number). Accepted and counted like any report."""
    body = {**post_body_with_exposure(), "build": build}
    assert post(GOOGLE, body, google_headers()).status_code == 204
    assert counted(region_id=abruzzo, bucket="android") == 1
    assert counted("exposure_notifications", region_id=abruzzo) == 1


# --- tests/apis/test_apple_operational_info.py ------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        lambda token: "",
        lambda token: "Bearer",
        lambda token: f"Another {token}",
        lambda token: "Bearer shorter",
        lambda token: f"Bearer {token}longer",
        lambda token: f"Bearer {token[:-1]}k",  # not hexadecimal
        lambda token: f"Bearer {token[:-1]}A",  # an uppercase letter
    ],
    ids=["empty", "no token", "another scheme", "short", "long", "non-hex", "uppercase"],
)
def test_immuni_analytics_apple_operational_info_malformed_analytics_token(
    abruzzo, analytics_token, authorization
):
    authorized(analytics_token)
    headers = {
        **apple_headers(analytics_token),
        "HTTP_AUTHORIZATION": authorization(analytics_token),
    }
    assert_schema_error(post(APPLE, operational_info(), headers))
    assert counted() == 0


def test_immuni_analytics_apple_operational_info_with_exposure(abruzzo, analytics_token):
    authorized(analytics_token)
    response = post(APPLE, operational_info(), apple_headers(analytics_token))
    assert response.status_code == 204
    assert counted(region_id=abruzzo, bucket="ios") == 1
    assert counted("exposure_notifications", region_id=abruzzo) == 1
    assert counted("exposure_permission_on") == 0
    # The allowance is used up: the same kind of report again does not count.
    post(APPLE, operational_info(), apple_headers(analytics_token))
    assert counted() == 1


def test_immuni_analytics_apple_operational_info_missing_redis_token(abruzzo, analytics_token):
    response = post(APPLE, operational_info(), apple_headers(analytics_token))
    assert response.status_code == 204
    assert counted() == 0


def test_immuni_analytics_apple_operational_info_without_exposure(abruzzo, analytics_token):
    authorized(analytics_token)
    body = {**operational_info(), "exposure_notification": 0}
    assert post(APPLE, body, apple_headers(analytics_token)).status_code == 204
    assert counted(region_id=abruzzo, bucket="ios") == 1
    assert counted("exposure_notifications") == 0


def test_immuni_analytics_apple_operational_info_dummy(abruzzo, analytics_token):
    authorized(analytics_token)
    headers = {**apple_headers(analytics_token), "HTTP_IMMUNI_DUMMY_DATA": "1"}
    assert post(APPLE, operational_info(), headers).status_code == 204
    assert counted() == 0
    # The dummy spent no allowance.
    assert post(APPLE, operational_info(), apple_headers(analytics_token)).status_code == 204
    assert counted() == 1


@pytest.mark.parametrize("excluded", list(operational_info()))
def test_immuni_analytics_apple_operational_info_bad_request(abruzzo, analytics_token, excluded):
    authorized(analytics_token)
    body = {k: v for k, v in operational_info().items() if k != excluded}
    assert_schema_error(post(APPLE, body, apple_headers(analytics_token)))
    assert counted() == 0


@pytest.mark.parametrize("bad_build", [None, 0, MAX_ALLOWED_BUILD + 1])
def test_immuni_analytics_apple_operational_info_bad_build(abruzzo, analytics_token, bad_build):
    authorized(analytics_token)
    body = {**operational_info(), "build": bad_build}
    assert_schema_error(post(APPLE, body, apple_headers(analytics_token)))
    assert counted() == 0


@pytest.mark.parametrize("build", range(1, MAX_ALLOWED_BUILD, MAX_ALLOWED_BUILD // 5))
def test_immuni_analytics_apple_operational_info_good_build(abruzzo, analytics_token, build):
    authorized(analytics_token)
    body = {**operational_info(), "build": build}
    assert post(APPLE, body, apple_headers(analytics_token)).status_code == 204
    assert counted(region_id=abruzzo, bucket="ios") == 1


# --- tests/apis/test_apple_token.py ------------------------------------------------------------


def token_body(token: str) -> dict[str, str]:
    return {"analytics_token": token, "device_token": b64encode(b"test").decode()}


def test_immuni_analytics_apple_token(abruzzo, analytics_token):
    response = post(APPLE_TOKEN, token_body(analytics_token), {})
    assert response.status_code == 202
    assert response["Cache-Control"] == "no-store"
    # Authorized for this month and the next, each kind of report once.
    assert services.apple_token_authorized(analytics_token=analytics_token)
    assert post(APPLE_TOKEN, token_body(analytics_token), {}).status_code == 201
    for kind in (0, 1):
        body = {**operational_info(), "exposure_notification": kind}
        post(APPLE, body, apple_headers(analytics_token))
    assert counted() == 2


@pytest.mark.parametrize("excluded", ["analytics_token", "device_token"])
def test_immuni_analytics_apple_token_bad_request(abruzzo, analytics_token, excluded):
    body = {k: v for k, v in token_body(analytics_token).items() if k != excluded}
    assert_schema_error(post(APPLE_TOKEN, body, {}))
    assert not services.apple_token_authorized(analytics_token=analytics_token)
