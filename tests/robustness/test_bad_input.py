"""Bad input on every device endpoint, the HIS API and the code forms: a clear error, nothing stored.

Oversized bodies, wrong types, dates out of range, malformed base64 and Unicode look-alikes in
codes. Each case checks what a client sees (status and the `{error_code, message}` body) and
that the database holds nothing new: no key, no code, no counter of a request that counted.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from base64 import b64encode
from wsgiref.types import WSGIEnvironment

import pytest
from django.test import Client
from django.urls import resolve
from rest_framework.test import APIClient

from authority.audit.models import Action, AuditEntry
from authority.formats.otp import otp_sha256_hex
from authority.keys.models import ExposureKey
from authority.otps.models import Otp
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day
from tests.ingestion.conftest import AppClient, make_teks, upload_body

pytestmark = pytest.mark.django_db

CHECK_OTP = "/v1/ingestion/check-otp"
UPLOAD = "/v1/ingestion/upload"
GOOGLE = "/v1/analytics/google/operational-info"
APPLE = "/v1/analytics/apple/operational-info"
APPLE_TOKEN = "/v1/analytics/apple/token"
DEVICE_ENDPOINTS = [CHECK_OTP, UPLOAD, GOOGLE, APPLE, APPLE_TOKEN]
APP_CODE = "KJ23IWY5UJ"


def assert_error(response, status: int, error_code: int = 1001) -> str:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == error_code
    assert isinstance(body["message"], str) and body["message"]
    return body["message"]


def assert_nothing_stored() -> None:
    assert not ExposureKey.objects.exists()
    assert not Otp.objects.exists()
    assert not DailyCounter.objects.exclude(metric="throttled_requests").exists()


def device_post(path: str, body: object, **headers: str):
    """A device request with a raw body: str/bytes as given, anything else as JSON."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    sent: WSGIEnvironment = {
        "HTTP_AUTHORIZATION": f"Bearer {secrets.token_hex(32)}",
        "HTTP_IMMUNI_DUMMY_DATA": "0",
        "HTTP_IMMUNI_CLIENT_CLOCK": "1767225600",
        **headers,
    }
    return Client().post(path, data=data, content_type="application/json", **sent)


def google_report(**fields: object) -> dict[str, object]:
    return {
        "province": "RM",
        "exposure_permission": 1,
        "bluetooth_active": 1,
        "notification_permission": 1,
        "exposure_notification": 0,
        "last_risky_exposure_on": local_day().isoformat(),
        "salt": b64encode(secrets.token_bytes(16)).decode(),
        "signed_attestation": "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl",
        **fields,
    }


# --- Oversized bodies ------------------------------------------------------------------------


def body_limit_of(path: str) -> int:
    """The largest body the endpoint at `path` takes (its view's own limit)."""
    view = resolve(path).func
    assert hasattr(view, "view_class"), f"{path} is not served by a class-based view"
    return view.view_class.max_body_bytes


@pytest.mark.parametrize("path", DEVICE_ENDPOINTS)
def test_an_oversized_device_request_gets_413_with_the_error_body(path, regions, settings):
    limit = body_limit_of(path)
    assert limit < settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # each endpoint's own limit binds
    body = {"padding": "ab" * (limit // 2 + 1)}
    message = assert_error(device_post(path, body), 413)
    assert str(limit) in message
    assert_nothing_stored()


@pytest.mark.parametrize("path", DEVICE_ENDPOINTS)
def test_a_body_over_the_sites_own_limit_names_the_endpoints(path, regions, settings):
    body = {"padding": "ab" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    assert str(body_limit_of(path)) in assert_error(device_post(path, body), 413)
    assert_nothing_stored()


def test_an_oversized_upload_with_a_valid_code_stores_nothing_and_the_code_survives(
    app_client, authorized_otp
):
    body = upload_body(padding="00" * body_limit_of(UPLOAD))
    assert_error(app_client.upload(authorized_otp, body), 413)
    assert not ExposureKey.objects.exists()
    assert app_client.check_otp(authorized_otp).status_code == 204
    assert app_client.upload(authorized_otp).status_code == 204


def test_an_oversized_his_request_gets_413(his_client, settings):
    body = {"otp": APP_CODE, "symptoms_started_on": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    assert_error(his_client.post("/v1/otp", body, format="json"), 413)
    assert not Otp.objects.exists()


def test_an_oversized_form_post_is_a_plain_400(operator, signed_in, settings):
    client = signed_in(operator)
    response = client.post(
        "/codes/authorize/",
        {"code": APP_CODE, "onset_kind": "symptoms", "onset_date": "x" * (600 * 1024)},
    )
    assert response.status_code == 400
    assert not Otp.objects.exists()


# --- Wrong types -----------------------------------------------------------------------------

WRONG_UPLOADS = {
    "teks is a string": {"teks": "AAAA"},
    "teks is an object": {"teks": {"key_data": "AAAA"}},
    "teks is null": {"teks": None},
    "a key is a list": {"teks": [["AAAAAAAAAAAAAAAAAAAAAA==", 1, 144]]},
    "key_data is a number": {"teks": [{"key_data": 12, "rolling_start_number": 1}]},
    "rolling_start_number is a word": "rolling_start_number=abc",
    "rolling_start_number is a float": "rolling_start_number=1.5",
    "rolling_start_number is huge": f"rolling_start_number={2**70}",
    "rolling_start_number is true": "rolling_start_number=true",
    "rolling_period is zero": "rolling_period=0",
    "rolling_period is 145": "rolling_period=145",
    "rolling_period is negative": "rolling_period=-1",
    "province is a number": {"province": 58},
    "province is full-width": {"province": "ＲＭ"},
    "province has a NUL": {"province": "R\x00"},
    "province is too long": {"province": "RMA"},
    "summaries is an object": {"exposure_detection_summaries": {}},
    "summary attenuations too short": "attenuation_durations=[1]",
    "countries are lower case": {"countries_of_interest": ["it"]},
    "padding is not hex": {"padding": "xyz"},
    "padding is a boolean": {"padding": True},
    "padding is a list": {"padding": ["ab"]},
}


def wrong_upload(change: object) -> object:
    teks: list[dict[str, object]] = [{**tek} for tek in make_teks(2)]
    body = upload_body(teks)
    if isinstance(change, dict):
        return {**body, **change}
    field, raw = str(change).split("=", 1)
    if field == "attenuation_durations":
        body["exposure_detection_summaries"] = [
            {
                "date": local_day().isoformat(),
                "matched_key_count": 1,
                "days_since_last_exposure": 1,
                "attenuation_durations": json.loads(raw),
                "maximum_risk_score": 1,
            }
        ]
        return body
    # Splice the raw JSON value in, so that NaN-like or huge numbers arrive as sent.
    marker = "__VALUE__"
    teks[0][field] = marker
    return json.dumps(body).replace(f'"{marker}"', raw)


@pytest.mark.parametrize("change", WRONG_UPLOADS.values(), ids=WRONG_UPLOADS.keys())
def test_an_upload_of_the_wrong_shape_is_refused_and_the_code_survives(
    app_client, authorized_otp, change
):
    body = wrong_upload(change)
    response = app_client.client.post(
        UPLOAD,
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {hashlib.sha256(authorized_otp.encode()).hexdigest()}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_IMMUNI_CLIENT_CLOCK="1767225600",
    )
    assert_error(response, 400)
    assert not ExposureKey.objects.exists()
    assert app_client.check_otp(authorized_otp).status_code == 204


@pytest.mark.parametrize(
    "raw",
    [b"NaN", b'{"teks": NaN}', b"\xff\xfe{}", b'{"a": 1}{', b"[]" * 10_000, b'"\\ud800"', b"null"],
    ids=["nan", "nan inside", "not utf-8", "trailing", "many arrays", "lone surrogate", "null"],
)
@pytest.mark.parametrize("path", DEVICE_ENDPOINTS)
def test_malformed_json_is_a_schema_error_everywhere(path, raw, regions):
    assert_error(device_post(path, raw), 400)
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("HTTP_IMMUNI_DUMMY_DATA", "٠"),  # Arabic-Indic zero
        ("HTTP_IMMUNI_DUMMY_DATA", "true"),
        ("HTTP_IMMUNI_CLIENT_CLOCK", "１７６７２２５６００"),  # full-width digits
        ("HTTP_IMMUNI_CLIENT_CLOCK", "-1"),
        ("HTTP_IMMUNI_CLIENT_CLOCK", "1e9"),
    ],
)
def test_headers_with_look_alike_digits_are_schema_errors(
    app_client, authorized_otp, header, value
):
    assert_error(app_client.upload(authorized_otp, **{header: value}), 400)
    assert not ExposureKey.objects.exists()


@pytest.mark.parametrize(
    "bearer",
    [
        "Bearer " + "ａ" * 64,
        "Bearer " + "а" * 64,
        "Bearer ٠" + "0" * 63,
        "Bearer " + "0" * 63 + "\u200b",
    ],
    ids=["full-width", "cyrillic", "arabic digit", "zero-width space"],
)
def test_unicode_bearers_are_schema_errors(db, bearer):
    # Not 64 ASCII letters or digits: not the SHA-256 of a code, as Immuni read it (400).
    response = device_post(CHECK_OTP, {}, HTTP_AUTHORIZATION=bearer.encode().decode("latin-1"))
    assert_error(response, 400, 1001)
    assert_nothing_stored()


# --- Dates out of range ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "date", ["0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01", "2026-02-30", "2026-1-1x"]
)
def test_exposure_summary_dates_out_of_range_are_refused_or_harmless(
    app_client, authorized_otp, date
):
    body = upload_body(make_teks(1))
    body["exposure_detection_summaries"] = [
        {
            "date": date,
            "matched_key_count": 1,
            "days_since_last_exposure": 1,
            "attenuation_durations": [1, 2, 3],
            "maximum_risk_score": 1,
        }
    ]
    response = app_client.upload(authorized_otp, body)
    # A well-formed date is only an input to a counter bucket (days since the last exposure,
    # which the app computes itself); an impossible one is a schema error.
    if response.status_code == 204:
        assert date in {"0001-01-01", "9999-12-31"}
        assert ExposureKey.objects.count() == 1
    else:
        assert_error(response, 400)
        assert not ExposureKey.objects.exists()


@pytest.mark.parametrize("rolling_start_number", [0, 1, 2**31 - 1, "future", "old"], ids=str)
def test_keys_out_of_their_window_are_left_out(app_client, authorized_otp, rolling_start_number):
    """A key a phone holds but that is not (or no longer) valid is left out and the rest of the
    upload kept (docs/compatibility.md, "Which keys are stored"): refusing the upload would
    refuse that phone's every retry for 14 days."""
    teks = make_teks(2)
    today = teks[0]["rolling_start_number"]
    teks[0]["rolling_start_number"] = {"future": today + 144, "old": today - 144 * 15}.get(
        str(rolling_start_number), rolling_start_number
    )
    assert app_client.upload(authorized_otp, upload_body(teks)).status_code == 204
    assert list(ExposureKey.objects.values_list("rolling_start_interval_number", flat=True)) == [
        teks[1]["rolling_start_number"]
    ]


@pytest.mark.parametrize(
    "date", ["0000-01-01", "0001-01-01", "1900-01-01", "9999-12-31", "2026-02-30", "tomorrow"]
)
def test_his_onset_dates_out_of_range_are_refused(his_client, date):
    response = his_client.post(
        "/v1/otp", {"otp": APP_CODE, "symptoms_started_on": date}, format="json"
    )
    assert_error(response, 400)
    response = his_client.post("/v1/otp/issue", {"symptoms_started_on": date}, format="json")
    assert_error(response, 400)
    assert not Otp.objects.exists()


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "2026-02-30", "١٤-٠٢-٢٠٢٦"])
def test_form_onset_dates_out_of_range_are_refused(operator, signed_in, date):
    response = signed_in(operator).post(
        "/codes/authorize/", {"code": APP_CODE, "onset_kind": "symptoms", "onset_date": date}
    )
    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors["onset_date"]
    assert not Otp.objects.exists()


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "2026-02-30", 20260214])
def test_operational_info_dates_out_of_range_are_refused(regions, date):
    body = google_report(exposure_notification=1, last_risky_exposure_on=date)
    assert_error(device_post(GOOGLE, body), 400)
    assert_nothing_stored()


# --- Malformed base64 ------------------------------------------------------------------------

BAD_BASE64 = {
    "not base64": "not base64 at all!!",
    "url-safe alphabet": b64encode(b"\xfb\xff" * 8).decode().replace("+", "-").replace("/", "_"),
    "missing padding": b64encode(bytes(16)).decode().rstrip("="),
    "15 bytes": b64encode(bytes(15)).decode(),
    "17 bytes": b64encode(bytes(17)).decode(),
    "embedded newline": b64encode(bytes(16)).decode()[:10]
    + "\n"
    + b64encode(bytes(16)).decode()[10:],
    "non-ascii": "ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ==",
    "empty": "",
}


@pytest.mark.parametrize("key_data", BAD_BASE64.values(), ids=BAD_BASE64.keys())
def test_malformed_key_data_is_named_and_nothing_stored(app_client, authorized_otp, key_data):
    teks = make_teks(2)
    teks[1]["key_data"] = key_data
    message = assert_error(app_client.upload(authorized_otp, upload_body(teks)), 400)
    assert "teks.1.key_data" in message
    assert not ExposureKey.objects.exists()


BAD_ATTESTATION_BASE64 = {
    **{name: value for name, value in BAD_BASE64.items() if "bytes" not in name},
    "15 bytes": b64encode(bytes(15)).decode(),
    "too long": b64encode(bytes(9_000)).decode(),
}


@pytest.mark.parametrize(
    "value", BAD_ATTESTATION_BASE64.values(), ids=BAD_ATTESTATION_BASE64.keys()
)
def test_malformed_attestations_are_refused(regions, value):
    assert_error(device_post(GOOGLE, google_report(salt=value)), 400)
    if value != BAD_ATTESTATION_BASE64["15 bytes"]:  # a DeviceCheck token has no fixed size
        token_request = {"analytics_token": secrets.token_hex(64), "device_token": value}
        assert_error(device_post(APPLE_TOKEN, token_request), 400)
    assert_nothing_stored()


# --- Unicode in codes: the authorize form and the HIS API ------------------------------------

LOOK_ALIKE_CODES = {
    "full-width": "ＫＪ２３ＩＷＹ５ＵＪ",
    "full-width digits": "KJ２３IWY５UJ",
    "cyrillic": "КЈ23ІWY5UЈ",  # K, J and I are Cyrillic letters
    "greek": "ΚJ23ΙWY5UJ",  # K and I are Greek letters
    "dotless i": "KJ23ıWY5UJ",  # upper-cases to I in Python
    "long s": "KJ23IWY5Uſ",  # upper-cases to S in Python
    "mathematical bold": "𝐊𝐉23IWY5UJ",
    "superscript digits": "KJ²³IWY5UJ",
    "arabic-indic digits": "KJ٢٣IWY5UJ",
    "zero-width space": "KJ23\u200bIWY5UJ",
    "combining mark": "KJ23I\u0301WY5UJ",
    "right-to-left override": "\u202eKJ23IWY5UJ",
    "emoji": "KJ23IWY5U😀",
}


@pytest.mark.parametrize("code", LOOK_ALIKE_CODES.values(), ids=LOOK_ALIKE_CODES.keys())
def test_the_authorize_form_refuses_look_alike_codes_clearly(operator, signed_in, code):
    response = signed_in(operator).post(
        "/codes/authorize/",
        {"code": code, "onset_kind": "symptoms", "onset_date": local_day().isoformat()},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["code"]
    assert errors and any(
        "never used in codes" in error or "characters" in error for error in errors
    ), errors
    assert not Otp.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.OTP_AUTHORIZED).exists()


@pytest.mark.parametrize("code", LOOK_ALIKE_CODES.values(), ids=LOOK_ALIKE_CODES.keys())
def test_the_his_api_refuses_look_alike_codes_clearly(his_client, code):
    response = his_client.post(
        "/v1/otp",
        {"otp": code, "symptoms_started_on": local_day().isoformat()},
        format="json",
    )
    message = assert_error(response, 400)
    assert message.startswith("otp: ")
    assert not Otp.objects.exists()


def test_the_ascii_code_itself_is_still_accepted_everywhere(his_client):
    """The refusals above are about the look-alikes, not the code."""
    response = his_client.post(
        "/v1/otp",
        {"otp": "kj2 3iw-y5uj", "symptoms_started_on": local_day().isoformat()},
        format="json",
    )
    assert response.status_code == 204
    assert Otp.objects.count() == 1


def test_a_device_upload_with_a_look_alike_code_hashes_to_nothing_known(his_client):
    his_client.post(
        "/v1/otp", {"otp": APP_CODE, "symptoms_started_on": local_day().isoformat()}, format="json"
    )
    app = AppClient(Client())
    look_alike = LOOK_ALIKE_CODES["cyrillic"]
    bearer = hashlib.sha256(look_alike.encode()).hexdigest()
    response = app.client.post(
        UPLOAD,
        data=json.dumps(upload_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bearer}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_IMMUNI_CLIENT_CLOCK="1767225600",
    )
    assert_error(response, 401, 1101)
    assert not ExposureKey.objects.exists()
    assert bearer != otp_sha256_hex(APP_CODE)


@pytest.fixture
def his_client(supervisor, lazio) -> APIClient:
    from authority.otps.services import create_api_key

    created = create_api_key(actor=supervisor, region=lazio, name="HIS Lazio")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {created.key}")
    return client


# --- Paths no API view serves -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/v1/ingestion/", "/v1/keys/eu/IT"])
def test_unknown_api_paths_get_the_error_body_too(db, path):
    response = Client().get(path)
    assert_error(response, 404, 1002)
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/v1/keys/abc", "/v1/keys/-1x"])
def test_what_is_not_a_batch_number_is_a_schema_error(db, path):
    # As Immuni's /v1/keys/{batch_index} answered (tests/test_batch_index.py there).
    assert_error(Client().get(path), 400, 1001)


def test_unknown_pages_keep_the_html_error_page(operator, signed_in):
    response = signed_in(operator).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- The other forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "onset_date", ["0001-01-01", "9999-12-31", "2026-02-30", "٢٠٢٦-٠٣-٠١", "x" * 5000, "\x00"]
)
def test_the_issue_form_refuses_bad_dates_and_issues_nothing(operator, signed_in, onset_date):
    client = signed_in(operator)
    token = client.get("/codes/issue/").context["form"].initial["form_token"]
    response = client.post(
        "/codes/issue/",
        {"form_token": token, "onset_kind": "symptoms", "onset_date": onset_date},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Otp.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "x" * 101},
        {"name": ""},
        {"name": "HIS\x00Lazio"},
        {"name": "HIS Lazio", "region": "999999"},
        {"name": "HIS Lazio", "region": "Ｌａｚｉｏ"},
    ],
    ids=["too long", "empty", "NUL", "unknown region", "full-width region"],
)
def test_the_api_key_form_refuses_bad_input_and_creates_nothing(administrator, signed_in, fields):
    from authority.otps.models import ApiKey

    response = signed_in(administrator).post("/codes/api-keys/", {"region": "1", **fields})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    "username",
    ["x" * 151, "bad name", "bad\x00name", "名字/../etc", ""],
    ids=["too long", "space", "NUL", "slashes", "empty"],
)
def test_the_invite_form_refuses_bad_usernames_and_creates_nobody(supervisor, signed_in, username):
    from authority.accounts.models import User

    before = User.objects.count()
    response = signed_in(supervisor).post(
        "/accounts/people/invite/",
        {"username": username, "first_name": "A", "last_name": "B", "role": "operator"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert User.objects.count() == before


@pytest.mark.parametrize(
    ("username", "password"),
    [("x" * 10_000, "y"), ("admin\x00", "y"), ("ａｄｍｉｎ", "wrong password"), ("", "")],
    ids=["huge", "NUL", "full-width", "empty"],
)
def test_the_login_form_refuses_bad_input_without_crashing(administrator, username, password):
    """(Django compares usernames after NFKC normalization: full-width letters with the right
    password reach the same account, which is no weakness, since the password must match.)"""
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not response.wsgi_request.user.is_authenticated
