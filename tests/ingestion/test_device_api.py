"""The device API as the Immuni app uses it: check-otp, upload, and every error of the contract."""

from __future__ import annotations

import json
from base64 import b64encode
from datetime import UTC, datetime, timedelta
from typing import TypedDict

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from authority.accounts import provinces
from authority.accounts.models import Province
from authority.formats.otp import generate_otp, otp_sha256_hex
from authority.ingestion import metrics
from authority.keys.metrics import KEYS_STORED
from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from authority.otps.services import authorize_otp
from authority.statistics.models import DailyCounter
from tests.ingestion.conftest import make_teks, todays_interval, upload_body

pytestmark = pytest.mark.django_db


def counter(metric: str, **key: object) -> int:
    return sum(DailyCounter.objects.filter(metric=metric, **key).values_list("value", flat=True))


class ErrorBody(TypedDict):
    error_code: int
    message: str


def assert_error(response, status: int, error_code: int) -> ErrorBody:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == error_code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_an_app_checks_then_uploads_and_the_keys_are_stored(app_client, authorized_otp, lazio):
    assert app_client.check_otp(authorized_otp).status_code == 204
    teks = make_teks(14)
    response = app_client.upload(authorized_otp, upload_body(teks))
    assert response.status_code == 204
    assert response.content == b""
    stored = ExposureKey.objects.all()
    assert stored.count() == 14
    assert {bytes(k.key_data) for k in stored} == {
        __import__("base64").b64decode(t["key_data"]) for t in teks
    }
    assert {k.region_id for k in stored} == {lazio.pk}  # RM is in Lazio
    today = stored.get(rolling_start_interval_number=todays_interval())
    # The key's day is a UTC day, the onset a date in Rome: three days apart, except in the
    # hour after midnight in Rome, when Rome's "three days ago" is UTC's two.
    onset = Otp.objects.get().onset_date
    assert today.days_since_onset_of_symptoms == (datetime.now(UTC).date() - onset).days
    assert (datetime.now(UTC).date() - onset).days in (2, 3)
    assert Otp.objects.get().state == OtpState.REDEEMED


def test_the_otp_is_consumed_once(app_client, authorized_otp):
    assert app_client.upload(authorized_otp).status_code == 204
    assert_error(app_client.upload(authorized_otp), 401, 1101)
    assert_error(app_client.check_otp(authorized_otp), 401, 1101)


def test_check_otp_does_not_consume_the_code(app_client, authorized_otp):
    for _ in range(3):
        assert app_client.check_otp(authorized_otp).status_code == 204
    assert Otp.objects.get().state == OtpState.PENDING


def test_unknown_codes_are_refused_and_counted(app_client):
    assert_error(app_client.check_otp("KJ23IWY5UJ"), 401, 1101)
    assert_error(app_client.upload("KJ23IWY5UJ"), 401, 1101)
    assert counter(metrics.FAILED_OTP_CHECKS) == 2
    assert ExposureKey.objects.count() == 0


def test_expired_codes_are_refused(app_client, authorized_otp):
    import time_machine

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert_error(app_client.upload(authorized_otp), 401, 1101)


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer xyz", "Basic " + "a" * 64, "Bearer " + "a" * 63, "Bearer " + "a" * 65],
)
def test_malformed_bearers_are_schema_errors(db, authorization):
    response = Client().post(
        "/v1/ingestion/check-otp",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
        HTTP_IMMUNI_DUMMY_DATA="0",
    )
    assert_error(response, 400, 1001)
    assert counter(metrics.FAILED_OTP_CHECKS) == 0


def test_a_bearer_of_64_letters_that_is_no_hash_is_an_unknown_code(db):
    # Immuni took any 64 letters and digits, and found no code for them.
    response = Client().post(
        "/v1/ingestion/check-otp",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer " + "g" * 64,
        HTTP_IMMUNI_DUMMY_DATA="0",
    )
    assert_error(response, 401, 1101)
    assert counter(metrics.FAILED_OTP_CHECKS) == 1


@pytest.mark.parametrize("path", ["/v1/ingestion/check-otp", "/v1/ingestion/upload"])
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_a_body_that_is_not_json_is_a_schema_error(app_client, authorized_otp, path, content_type):
    # Everything else of the request is right: the code, the headers.
    response = Client().post(
        path,
        data="province=RM",
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {otp_sha256_hex(authorized_otp)}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_IMMUNI_CLIENT_CLOCK="1700000000",
    )
    body = assert_error(response, 400, 1001)
    assert body["message"] == f'Unsupported media type "{content_type}" in request.'
    assert Otp.objects.get().state == OtpState.PENDING


@pytest.mark.parametrize("path", ["/v1/ingestion/check-otp", "/v1/ingestion/upload"])
def test_malformed_json_is_a_schema_error(app_client, authorized_otp, path):
    response = app_client.client.post(
        path,
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {otp_sha256_hex(authorized_otp)}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_IMMUNI_CLIENT_CLOCK="1700000000",
    )
    body = assert_error(response, 400, 1001)
    assert str(body["message"]).startswith("JSON parse error")


@pytest.mark.parametrize("path", ["/v1/ingestion/check-otp", "/v1/ingestion/upload"])
@pytest.mark.parametrize("sent", ["", "null", "[]", "[1, 2]", '"padding"', "12"])
def test_a_body_that_is_not_an_object_is_a_schema_error(app_client, authorized_otp, path, sent):
    response = app_client.client.post(
        path,
        data=sent,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {otp_sha256_hex(authorized_otp)}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_IMMUNI_CLIENT_CLOCK="1700000000",
    )
    body = assert_error(response, 400, 1001)
    assert body["message"] == "The body must be a JSON object."
    assert Otp.objects.get().state == OtpState.PENDING


def test_the_bearer_scheme_is_case_insensitive_as_http_says(app_client, authorized_otp):
    # The apps send "Bearer"; RFC 9110 11.1 makes the scheme case-insensitive (Immuni's Sanic
    # matched "Bearer" only and answered other spellings 400).
    response = app_client.client.post(
        "/v1/ingestion/check-otp",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"BEARER {otp_sha256_hex(authorized_otp)}",
        HTTP_IMMUNI_DUMMY_DATA="0",
    )
    assert response.status_code == 204


def test_an_uppercase_hash_of_a_valid_code_is_an_unknown_code_as_immuni_answered(
    app_client, authorized_otp
):
    # Immuni took 64 letters or digits as sent and looked that string up: the apps send
    # lowercase hex, so an uppercase hash matches no code (a 401, a failed lookup).
    response = app_client.client.post(
        "/v1/ingestion/check-otp",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {otp_sha256_hex(authorized_otp).upper()}",
        HTTP_IMMUNI_DUMMY_DATA="0",
    )
    assert_error(response, 401, 1101)
    assert counter(metrics.FAILED_OTP_CHECKS) == 1
    assert Otp.objects.get().state == OtpState.PENDING


@pytest.mark.parametrize("value", ["2", "yes", "", "01"])
def test_the_dummy_header_must_be_0_or_1(app_client, value):
    response = app_client.client.post(
        "/v1/ingestion/check-otp",
        data="{}",
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer " + "a" * 64,
        HTTP_IMMUNI_DUMMY_DATA=value,
    )
    assert_error(response, 400, 1001)


def test_the_client_clock_is_required_on_upload(app_client, authorized_otp):
    response = app_client.upload(authorized_otp, HTTP_IMMUNI_CLIENT_CLOCK="soon")
    assert_error(response, 400, 1001)
    assert Otp.objects.get().state == OtpState.PENDING


def tek(**overrides: object) -> dict[str, object]:
    return {**make_teks(1)[0], **overrides}


@pytest.mark.parametrize(
    ("bad_keys", "field_message"),
    [
        ([tek(key_data=b64encode(b"short").decode())], "exactly 16 bytes"),
        ([tek(key_data="not base64!!")], "Not valid base64"),
        ([tek(rolling_period=0)], "rolling_period"),
        ([tek(rolling_period=145)], "rolling_period"),
        ([tek(rolling_start_number="today")], "rolling_start_number"),
        (make_teks(14) + make_teks(14) + make_teks(3), "no more than 30"),
        (
            [tek(rolling_period=0)],
            "teks.0.rolling_period: Ensure this value is greater than or equal to 1.",
        ),
        ([tek(rolling_period=True)], "teks.0.rolling_period: A valid integer is required."),
        (
            [{"rolling_start_number": 1, "rolling_period": 144}],
            "teks.0.key_data: This field is required.",
        ),
        ([tek(), tek(key_data=12)], "teks.1.key_data: Not a valid string."),
        (["a key"], "teks.0: Invalid data. Expected a dictionary, but got str."),
        ({"key_data": "x"}, 'teks: Expected a list of items but got type "dict".'),
    ],
    ids=[
        "short-key",
        "bad-base64",
        "period-0",
        "period-145",
        "wrong-type",
        "too-many",
        "named-field",
        "boolean",
        "missing",
        "second-key",
        "not-an-object",
        "not-a-list",
    ],
)
def test_invalid_keys_get_field_errors_and_the_otp_survives(
    app_client, authorized_otp, bad_keys, field_message
):
    body = assert_error(app_client.upload(authorized_otp, upload_body(bad_keys)), 400, 1001)
    assert "teks" in body["message"]
    assert field_message in body["message"]
    assert Otp.objects.get().state == OtpState.PENDING
    assert ExposureKey.objects.count() == 0
    # The app fixes its request and tries again with the same code.
    assert app_client.upload(authorized_otp).status_code == 204


def test_duplicate_keys_are_refused(app_client, authorized_otp):
    key = tek()
    body = assert_error(app_client.upload(authorized_otp, upload_body([key, dict(key)])), 400, 1001)
    assert "same key appears twice" in body["message"]


def test_keys_too_old_or_in_the_future_are_left_out_not_refused(app_client, authorized_otp):
    # A patient cannot change what their phone holds (tests/ingestion/test_key_intervals.py
    # has every case): the upload goes ahead without them.
    kept = tek()
    too_old = tek(rolling_start_number=todays_interval() - 144 * 15)
    future = tek(rolling_start_number=todays_interval() + 144)
    response = app_client.upload(authorized_otp, upload_body([too_old, kept, future]))
    assert response.status_code == 204
    assert list(ExposureKey.objects.values_list("rolling_start_interval_number", flat=True)) == [
        kept["rolling_start_number"]
    ]
    assert Otp.objects.get().state == OtpState.REDEEMED


def test_unknown_provinces_are_refused(app_client, authorized_otp):
    body = assert_error(app_client.upload(authorized_otp, upload_body(province="XX")), 400, 1001)
    assert "province" in body["message"]


def _authorized(operator) -> str:
    code = generate_otp()
    authorize_otp(code=code, onset_date=timezone.localdate(), operator=operator)
    return code


def _regions_of_stored_keys() -> set[int]:
    return set(ExposureKey.objects.values_list("region_id", flat=True))


def test_a_province_moved_in_the_admin_sends_the_next_upload_to_its_new_region(
    app_client, operator, lazio, lombardia
):
    assert app_client.upload(_authorized(operator), upload_body(make_teks(1))).status_code == 204
    assert _regions_of_stored_keys() == {lazio.pk}
    rome = Province.objects.get(code="RM")
    rome.region = lombardia
    rome.save()  # as the admin does
    ExposureKey.objects.all().delete()
    assert app_client.upload(_authorized(operator), upload_body(make_teks(1))).status_code == 204
    assert _regions_of_stored_keys() == {lombardia.pk}


def test_other_processes_see_a_moved_province_once_their_table_expires(
    app_client, operator, lazio, lombardia, monkeypatch
):
    assert app_client.upload(_authorized(operator), upload_body(make_teks(1))).status_code == 204
    # Another process's edit: no signal reaches this one.
    Province.objects.filter(code="RM").update(region=lombardia)
    ExposureKey.objects.all().delete()
    assert app_client.upload(_authorized(operator), upload_body(make_teks(1))).status_code == 204
    assert _regions_of_stored_keys() == {lazio.pk}  # still the table read before
    monkeypatch.setattr(provinces, "PROVINCE_TABLE_SECONDS", 0.0)  # as if its time had passed
    ExposureKey.objects.all().delete()
    assert app_client.upload(_authorized(operator), upload_body(make_teks(1))).status_code == 204
    assert _regions_of_stored_keys() == {lombardia.pk}


def test_padding_must_be_hex(app_client, authorized_otp):
    body = assert_error(app_client.upload(authorized_otp, upload_body(padding="zz")), 400, 1001)
    assert "padding" in body["message"]


def test_an_upload_without_keys_is_accepted(app_client, authorized_otp):
    assert app_client.upload(authorized_otp, upload_body([])).status_code == 204
    assert counter(metrics.UPLOADS) == 1
    assert counter(metrics.UPLOADS_WITH_KEYS) == 0


def test_uploads_feed_only_counters(app_client, authorized_otp, lazio):
    summary = {
        "date": str(timezone.localdate()),
        "matched_key_count": 2,
        "days_since_last_exposure": 4,
        "attenuation_durations": [300, 0, 0],
        "maximum_risk_score": 4,
        "exposure_info": [],
    }
    body = upload_body(
        make_teks(10),
        exposure_detection_summaries=[summary, {**summary, "days_since_last_exposure": 2}],
    )
    assert app_client.upload(authorized_otp, body).status_code == 204
    assert counter(metrics.UPLOADS, region_id=lazio.pk) == 1
    assert counter(KEYS_STORED, region_id=lazio.pk) == 10
    assert counter(metrics.KEYS_PER_UPLOAD, bucket="10") == 1
    assert counter(metrics.UPLOADERS_NOTIFIED, region_id=lazio.pk) == 1
    assert counter(metrics.DAYS_SINCE_LAST_EXPOSURE, bucket="2") == 1


def test_wrong_methods_get_the_error_shape(db):
    assert_error(Client().get("/v1/ingestion/upload"), 405, 1003)


@override_settings(
    DEVICE_API_RATES={"check-otp": "3/minute", "upload": "3/minute", "analytics": "3/minute"}
)
def test_clients_are_throttled_with_retry_after(app_client, one_throttle_window):
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        app_client.check_otp("KJ23IWY5UJ")
    response = app_client.check_otp("KJ23IWY5UJ")
    assert_error(response, 429, 1004)
    assert int(response["Retry-After"]) > 0
    # The cache key is a keyed hash: the client's address is not in it.
    assert not any("127.0.0.1" in str(key) for key in cache._cache)  # type: ignore[attr-defined]  # LocMemCache's own store: Django lists no cache's keys


def test_the_api_sends_no_cors_headers(app_client, authorized_otp):
    response = app_client.post(
        "/v1/ingestion/check-otp", {}, otp=authorized_otp, HTTP_ORIGIN="https://elsewhere.example"
    )
    assert response.status_code == 204
    assert not any(header.lower().startswith("access-control-") for header in response.headers)


def test_an_upload_with_the_uppercase_hash_of_a_valid_code_is_unauthorized(
    app_client, authorized_otp
):
    response = app_client.client.post(
        "/v1/ingestion/upload",
        data=json.dumps(upload_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {otp_sha256_hex(authorized_otp).upper()}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_IMMUNI_CLIENT_CLOCK="1700000000",
    )
    assert_error(response, 401, 1101)
    assert Otp.objects.get().state == OtpState.PENDING
    assert not ExposureKey.objects.exists()
