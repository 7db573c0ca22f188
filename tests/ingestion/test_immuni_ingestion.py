"""Immuni's own tests of check-otp and upload, ported case by case.

Sources (immuni-app/immuni-backend-exposure-ingestion): tests/test_upload.py and
tests/test_validators.py. Each test is named after the one it ports; where we answer
otherwise on purpose, the docstring says so and docs/compatibility.md says why. The
check-cun and get-dgc endpoints (Italy's own health-card and certificate services) are not
part of this product, and neither are their tests.
"""

from __future__ import annotations

import json
import os
from base64 import b64decode, b64encode
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from typing import TypedDict
from wsgiref.types import WSGIEnvironment

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from authority.formats.otp import generate_otp
from authority.ingestion import metrics
from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from authority.otps.services import authorize_otp
from authority.statistics.models import DailyCounter
from tests.ingestion.conftest import Tek

pytestmark = pytest.mark.django_db

UPLOAD = "/v1/ingestion/upload"
CHECK_OTP = "/v1/ingestion/check-otp"
SCHEMA_ERROR = {"error_code": 1001}
MAX_PADDING_SIZE = 150_000  # immuni_exposure_ingestion/core/config.py


def random_key_data(size: int = 16) -> str:
    return b64encode(os.urandom(size)).decode()


def interval(moment: datetime) -> int:
    return int(moment.timestamp() / 600)


class ExposureDetectionSummary(TypedDict):
    date: str
    matched_key_count: int
    days_since_last_exposure: int
    attenuation_durations: list[int]
    maximum_risk_score: int
    exposure_info: list[dict[str, object]]


class Upload(TypedDict):
    province: str
    padding: str
    exposure_detection_summaries: list[ExposureDetectionSummary]
    teks: list[Tek]


def upload_data() -> Upload:
    """Immuni's UPLOAD_DATA: 14 keys a day apart from now, one summary with one exposure."""
    today = date.today()
    now = datetime.now(UTC)
    return {
        "province": "AG",
        "padding": "4dd16",
        "exposure_detection_summaries": [
            {
                "date": today.isoformat(),
                "matched_key_count": 2,
                "days_since_last_exposure": 1,
                "attenuation_durations": [300, 0, 0],
                "maximum_risk_score": 4,
                "exposure_info": [
                    {
                        "date": (today - timedelta(15)).isoformat(),
                        "duration": 5,
                        "attenuation_value": 45,
                        "attenuation_durations": [300, 0, 0],
                        "transmission_risk_level": 1,
                        "total_risk_score": 4,
                    }
                ],
            }
        ],
        "teks": [
            {
                "key_data": random_key_data(),
                "rolling_start_number": interval(now - timedelta(days=i)),
                "rolling_period": 144,
            }
            for i in range(14)
        ],
    }


def headers(*, dummy: str | None = "0", clock: str | None = None) -> dict[str, str]:
    """Immuni's `headers` fixture: the dummy flag and the client clock, no Authorization."""
    sent = {"CONTENT_TYPE": "application/json; charset=UTF-8"}
    if dummy is not None:
        sent["HTTP_IMMUNI_DUMMY_DATA"] = dummy
    sent["HTTP_IMMUNI_CLIENT_CLOCK"] = clock if clock is not None else str(int(time_now()))
    return sent


def time_now() -> float:
    return timezone.now().timestamp()


def auth_headers(otp_sha: str | None = None, **kwargs: str | None) -> dict[str, str]:
    """Immuni's `auth_headers`: the SHA-256 of "12345" unless a code's is given."""
    bearer = otp_sha or sha256(b"12345").hexdigest()
    return {**headers(**kwargs), "HTTP_AUTHORIZATION": f"Bearer {bearer}"}


def post(path: str, body: object, sent: WSGIEnvironment):
    data = body if isinstance(body, str) else json.dumps(body)
    content_type = sent.pop("CONTENT_TYPE", "application/json")
    return Client().post(path, data=data, content_type=content_type, **sent)


def assert_schema_error(response) -> None:
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert response["Cache-Control"] == "no-store"


def nothing_stored() -> bool:
    return (
        not ExposureKey.objects.exists()
        and not DailyCounter.objects.filter(
            metric__in=[metrics.UPLOADS, metrics.UPLOADERS_NOTIFIED]
        ).exists()
    )


@pytest.fixture(autouse=True)
def no_throttles(settings) -> None:
    """Immuni had no per-client limits in its tests: some of these send 240 uploads, half of
    them with a used code (a failed lookup, which the guessing budget counts)."""
    settings.DEVICE_API_RATES = {name: "100000/minute" for name in settings.DEVICE_API_RATES}
    settings.GUESSING_NETWORK_BURST = 100_000
    cache.clear()


def new_otp(operator) -> str:
    """Immuni's `otp` fixture: an authorized code (symptoms started today), as its hash."""
    code = generate_otp()
    authorize_otp(code=code, onset_date=timezone.localdate(), operator=operator)
    return sha256(code.encode()).hexdigest()


@pytest.fixture
def otp(operator) -> str:
    return new_otp(operator)


# --- tests/test_upload.py ----------------------------------------------------------------------


def test_immuni_ingestion_dummy_data_upload(regions):
    response = post(UPLOAD, upload_data(), auth_headers(dummy="1"))
    assert response.status_code == 204
    assert nothing_stored()


def test_immuni_ingestion_dummy_data_check_otp_success(regions):
    response = post(CHECK_OTP, {"padding": "4dd1"}, auth_headers(dummy="1"))
    assert response.status_code == 204
    assert nothing_stored()


def test_immuni_ingestion_dummy_data_check_otp_fail(regions, settings):
    """Immuni answered a share of dummy checks 401 (DUMMY_DATA_TOKEN_ERROR_CHANCE_PERCENT, 1 by
    default; its test forced the share to 100), so that a 401 is not surely a real person;
    so does this service (DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT, 1 by default)."""
    settings.DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT = 100
    response = post(CHECK_OTP, {"padding": "4dd1"}, auth_headers(dummy="1"))
    assert response.status_code == 401
    assert response.json() == {"error_code": 1101, "message": "Unauthorized OTP."}
    assert nothing_stored()


def without(field: str) -> str:
    return json.dumps({k: v for k, v in upload_data().items() if k != field})


@pytest.mark.parametrize(
    ("bad_data", "message"),
    [
        ("null", "The body must be a JSON object."),
        (json.dumps({}), "province: This field is required."),
        (without("province"), "province: This field is required."),
        (without("exposure_detection_summaries"), "exposure_detection_summaries: This field is"),
        (without("teks"), "teks: This field is required."),
    ],
    ids=["None", "Empty Dict", "province", "exposure_detection_summaries", "teks"],
)
def test_immuni_ingestion_upload_bad_request_body(otp, bad_data, message):
    """Immuni sent these without an Authorization header (a schema error whatever the body);
    here with a valid code, so that the body is what is refused, and the code survives."""
    response = post(UPLOAD, bad_data, auth_headers(otp))
    assert_schema_error(response)
    assert message in response.json()["message"]
    assert nothing_stored()
    assert Otp.objects.get().state == OtpState.PENDING


def test_immuni_ingestion_upload_bad_request_body_padding(otp):
    """Immuni's case without padding was refused only for its missing Authorization header:
    its padding field was optional, as it is here (the apps always send one)."""
    assert post(UPLOAD, without("padding"), auth_headers(otp)).status_code == 204
    assert Otp.objects.get().state == OtpState.REDEEMED


@pytest.mark.parametrize("province", ["asd", "ROMA", None])
def test_immuni_ingestion_invalid_province(otp, province):
    body = {**upload_data(), "province": province}
    response = post(UPLOAD, body, auth_headers(otp))
    assert_schema_error(response)
    assert response.json()["message"].startswith("province: ")
    assert Otp.objects.get().state == OtpState.PENDING


@pytest.mark.parametrize("countries_of_interest", [["DEN", "ES"], ["DE", "PL", "fff"]])
def test_immuni_ingestion_invalid_countries(otp, countries_of_interest):
    body = {**upload_data(), "countries_of_interest": countries_of_interest}
    assert_schema_error(post(UPLOAD, body, auth_headers(otp)))
    assert Otp.objects.get().state == OtpState.PENDING


@pytest.mark.parametrize("dummy_header", ["other", "boh", ""])
def test_immuni_ingestion_upload_bad_request_dummy_header(otp, dummy_header):
    assert_schema_error(post(UPLOAD, upload_data(), auth_headers(otp, dummy=dummy_header)))
    assert nothing_stored()
    assert Otp.objects.get().state == OtpState.PENDING


@pytest.mark.parametrize("endpoint", [UPLOAD, CHECK_OTP])
@pytest.mark.parametrize("token", ["asd", "12345", "abcdefghijklmnopqrstuvwxy"])
def test_immuni_ingestion_bad_auth_token_raises_validation_error(regions, endpoint, token):
    sent = {**headers(), "HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert_schema_error(post(endpoint, upload_data(), sent))


@pytest.mark.parametrize("missing_header", ["dummy", "clock"])
def test_immuni_ingestion_upload_without_headers(otp, missing_header):
    sent = auth_headers(otp)
    del sent["HTTP_IMMUNI_DUMMY_DATA" if missing_header == "dummy" else "HTTP_IMMUNI_CLIENT_CLOCK"]
    # With no body, as Immuni's test sends; and with a whole upload: never taken as real.
    assert_schema_error(post(UPLOAD, "", dict(sent)))
    assert_schema_error(post(UPLOAD, upload_data(), sent))
    assert nothing_stored()
    assert Otp.objects.get().state == OtpState.PENDING


def test_immuni_ingestion_check_otp_cun_without_headers(otp):
    sent = auth_headers(otp)
    del sent["HTTP_IMMUNI_DUMMY_DATA"]
    assert_schema_error(post(CHECK_OTP, "", dict(sent)))
    assert_schema_error(post(CHECK_OTP, {"padding": "4dd1"}, sent))
    assert not DailyCounter.objects.filter(metric=metrics.FAILED_OTP_CHECKS).exists()


def test_immuni_ingestion_upload_otp_check_fail(regions):
    response = post(CHECK_OTP, {"padding": "4dd1"}, auth_headers())
    assert response.status_code == 401
    assert response.json() == {"error_code": 1101, "message": "Unauthorized OTP."}
    assert response["Cache-Control"] == "no-store"
    assert nothing_stored()


def test_immuni_ingestion_upload_otp_check_pass(otp):
    response = post(CHECK_OTP, {"padding": "4dd1"}, auth_headers(otp))
    assert response.status_code == 204
    assert response["Cache-Control"] == "no-store"
    assert nothing_stored()
    assert Otp.objects.get().state == OtpState.PENDING


def test_immuni_ingestion_upload_too_many_keys(otp):
    """Immuni's schema refused more than MAX_KEYS_PER_BATCH keys (400); between 31 and that,
    it answered 204 and dropped them all. Here more than 30 keys is a schema error (DESIGN.md 7)
    and the code stays usable."""
    now = interval(datetime.now(UTC))
    body = upload_data()
    body["teks"] = [
        {"key_data": random_key_data(), "rolling_start_number": now - 1 - i, "rolling_period": 1}
        for i in range(31)
    ]
    response = post(UPLOAD, body, auth_headers(otp))
    assert_schema_error(response)
    assert "no more than 30" in response.json()["message"]
    assert nothing_stored()
    assert Otp.objects.get().state == OtpState.PENDING


def test_immuni_ingestion_upload_invalid_start_numbers(otp):
    """Immuni answered 204, consumed the code and dropped every key (a key 10 intervals off a
    day boundary, so its interval overlaps the next key's). Here the code is consumed too, and
    every key is stored: DESIGN.md 7's "no two keys for the same interval" is one (start,
    period) sent twice, and a patient cannot change what their phone holds
    (docs/compatibility.md)."""
    body = upload_data()
    body["teks"][1]["rolling_start_number"] += 10
    response = post(UPLOAD, body, auth_headers(otp))
    assert response.status_code == 204
    assert sorted(
        ExposureKey.objects.values_list("rolling_start_interval_number", flat=True)
    ) == sorted(tek["rolling_start_number"] for tek in body["teks"])
    assert Otp.objects.get().state == OtpState.REDEEMED


@pytest.mark.parametrize("length", (0, 1, 15, 17, 100))
def test_immuni_ingestion_upload_keys_with_wrong_length(otp, length):
    body = upload_data()
    # Keys right in everything but their length: recent, with a period.
    for tek in body["teks"]:
        tek["key_data"] = random_key_data(length)
    response = post(UPLOAD, body, auth_headers(otp))
    assert_schema_error(response)
    assert "teks.0.key_data: " in response.json()["message"]
    assert nothing_stored()
    assert Otp.objects.get().state == OtpState.PENDING


def test_immuni_ingestion_upload_keys_with_missing_teks(otp):
    body = {**upload_data(), "teks": None}
    assert_schema_error(post(UPLOAD, body, auth_headers(otp)))


# Immuni's parametrisation, whole (tests/test_upload.py, test_upload_otp_complete): every
# inclusion of infos, summaries and keys crossed with no key or each of the 14 keys removed,
# 2 x 2 x 2 x 15 = 120 cases.
COMPLETE_CASES = [
    (include_infos, include_summaries, include_teks, remove_tek)
    for include_infos in (True, False)
    for include_summaries in (True, False)
    for include_teks in (True, False)
    for remove_tek in (None, *range(14))
]


def test_immuni_ingestion_upload_otp_complete(operator):
    """Immuni's 120 parametrized cases, each with its own code, in one test (a test's set-up
    costs more than its upload). Immuni left today's key out (EXCLUDE_CURRENT_DAY_TEK) before
    uploading; so does this port. A missing day in between is fine."""
    for include_infos, include_summaries, include_teks, remove_tek in COMPLETE_CASES:
        case = (include_infos, include_summaries, include_teks, remove_tek)
        ExposureKey.objects.all().delete()
        DailyCounter.objects.all().delete()
        otp = new_otp(operator)
        body = upload_data()
        if not include_infos:
            body["exposure_detection_summaries"][0]["exposure_info"] = []
        if not include_summaries:
            body["exposure_detection_summaries"] = []
        if remove_tek is not None:
            del body["teks"][remove_tek]
        if not include_teks:
            body["teks"] = []
        midnight = interval(datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
        body["teks"] = [tek for tek in body["teks"] if tek["rolling_start_number"] < midnight]

        response = post(UPLOAD, body, auth_headers(otp))

        assert response.status_code == 204, case
        stored = {
            (
                b64encode(bytes(key.key_data)).decode(),
                key.rolling_start_interval_number,
                key.rolling_period,
            )
            for key in ExposureKey.objects.all()
        }
        assert stored == {
            (tek["key_data"], tek["rolling_start_number"], tek["rolling_period"])
            for tek in body["teks"]
        }, case
        # What Immuni queued for its analytics is counted here: the upload, for AG's region
        # (Sicilia, not the national row), and whether the app had notified an exposure.
        assert DailyCounter.objects.get(metric=metrics.UPLOADS).region_id != 0, case
        notified = DailyCounter.objects.filter(metric=metrics.UPLOADERS_NOTIFIED)
        assert notified.exists() == include_summaries, case
        # The code is used up: a second upload with it is unauthorized.
        assert post(UPLOAD, body, auth_headers(otp)).status_code == 401, case
    assert not Otp.objects.filter(state=OtpState.PENDING).exists()
    assert len(COMPLETE_CASES) == 120


@pytest.mark.parametrize(
    "invalid_padding", ["\\asd*&!@#", "a" * (MAX_PADDING_SIZE + 1)], ids=["symbols", "too long"]
)
def test_immuni_ingestion_invalid_paddings_upload(otp, invalid_padding):
    body = {**upload_data(), "padding": invalid_padding}
    assert_schema_error(post(UPLOAD, body, auth_headers(otp)))
    assert Otp.objects.get().state == OtpState.PENDING


@pytest.mark.parametrize(
    "invalid_padding", ["\\asd*&!@#", "a" * (MAX_PADDING_SIZE + 1)], ids=["symbols", "too long"]
)
def test_immuni_ingestion_invalid_paddings_check_otp_cun(regions, invalid_padding):
    assert_schema_error(post(CHECK_OTP, {"padding": invalid_padding}, auth_headers()))


# --- tests/test_validators.py (TekListValidator) ------------------------------------------------


def validator_teks() -> list[Tek]:
    """Immuni's `teks` fixture: 15 keys a day apart, from midnight 14 days ago to today's."""
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = interval(midnight - timedelta(days=14))
    return [
        {
            "key_data": random_key_data(),
            "rolling_period": 144,
            "rolling_start_number": start + 144 * i,
        }
        for i in range(15)
    ]


def upload_teks(otp: str, teks: list[Tek]):
    return post(UPLOAD, {**upload_data(), "teks": teks}, auth_headers(otp))


def test_immuni_ingestion_tek_key_validator_pass_if_empty(otp):
    assert upload_teks(otp, []).status_code == 204


def test_immuni_ingestion_tek_key_validator_fails_on_out_of_range_rolling_period(otp):
    # Immuni's 60 cases (each key, each bad period) in one test; a refused upload keeps the code.
    for key_index in range(15):
        for rolling_period in (-1, 0, 145, 1024):
            teks = validator_teks()
            teks[key_index]["rolling_period"] = rolling_period
            response = upload_teks(otp, teks)
            assert_schema_error(response)
            assert f"teks.{key_index}.rolling_period" in response.json()["message"]
    assert nothing_stored()
    assert Otp.objects.get().state == OtpState.PENDING


def test_immuni_ingestion_tek_key_validator_fails_on_future_rolling_start_number(otp):
    """Immuni refused the upload for its one key starting tomorrow. Here that key is left out
    and the 14 others stored: a phone's clock is the patient's no more than its keys are, and
    the key would not be published before tomorrow anyway (docs/compatibility.md)."""
    teks = validator_teks()
    for tek in teks:
        tek["rolling_start_number"] += 144
    assert upload_teks(otp, teks).status_code == 204
    assert sorted(
        ExposureKey.objects.values_list("rolling_start_interval_number", flat=True)
    ) == sorted(tek["rolling_start_number"] for tek in teks[:14])
    assert DailyCounter.objects.get(metric=metrics.KEYS_LEFT_OUT).bucket == "future"


def test_immuni_ingestion_tek_key_validator_pass_with_correct_teks(otp):
    teks = validator_teks()
    assert upload_teks(otp, teks).status_code == 204
    assert ExposureKey.objects.count() == 15


def test_immuni_ingestion_tek_key_validator_fails_if_too_many_teks(otp):
    # Immuni lowered its limit to 3 for the 15 keys of the fixture; ours is 30 (DESIGN.md 7).
    teks = validator_teks() + [
        {"key_data": random_key_data(), "rolling_period": 1, "rolling_start_number": i}
        for i in range(16)
    ]
    response = upload_teks(otp, teks)
    assert_schema_error(response)
    assert "no more than 30" in response.json()["message"]


def test_immuni_ingestion_tek_key_validator_fails_with_duplicated_start_number_and_rolling_period(
    operator,
):
    """Immuni refused the upload; here the key repeating an interval is left out and the
    other 14 are stored: GAEN 1.5 makes such keys when a phone reads its keys twice within
    ten minutes, a retried upload (docs/compatibility.md)."""
    for duplicated_index in range(1, 13):
        ExposureKey.objects.all().delete()
        teks = validator_teks()
        teks[duplicated_index]["rolling_start_number"] = teks[0]["rolling_start_number"]
        teks[duplicated_index]["rolling_period"] = teks[0]["rolling_period"]
        assert upload_teks(new_otp(operator), teks).status_code == 204, duplicated_index
        stored = set(ExposureKey.objects.values_list("key_data", flat=True))
        sent = [b64decode(tek["key_data"]) for tek in teks]
        assert {bytes(key) for key in stored} == set(sent) - {sent[duplicated_index]}


def test_immuni_ingestion_tek_key_validator_fails_with_overlapping_periods(operator):
    """Immuni refused a key starting off its day boundary (not a multiple of 144 from the
    first); here it is stored with the others: the same start shifted by an interval is a
    different (start, period), and refusing it would refuse the phone on every retry."""
    for overlapping_index in range(1, 13):
        ExposureKey.objects.all().delete()
        teks = validator_teks()
        teks[overlapping_index]["rolling_start_number"] = teks[0]["rolling_start_number"] + 1
        assert upload_teks(new_otp(operator), teks).status_code == 204, overlapping_index
        assert ExposureKey.objects.count() == 15, overlapping_index


def test_immuni_ingestion_tek_key_validator_fails_with_missing_teks(operator):
    """Immuni refused a missing day only with ALLOW_NON_CONSECUTIVE_TEKS off; its default, and
    ours always, is to take the keys a phone has: a day without a key is no error."""
    for missing_index in range(1, 12):
        ExposureKey.objects.all().delete()
        teks = validator_teks()
        del teks[missing_index]
        assert upload_teks(new_otp(operator), teks).status_code == 204, missing_index
        assert ExposureKey.objects.count() == 14


def test_immuni_ingestion_tek_key_validator_finds_todays_teks(otp):
    # Today's key (from today's midnight) is taken; publication waits until it has expired.
    teks = validator_teks()[-1:]
    assert upload_teks(otp, teks).status_code == 204
    assert (
        ExposureKey.objects.get().rolling_start_interval_number == teks[0]["rolling_start_number"]
    )
