"""The HIS endpoints: POST /v1/otp and POST /v1/otp/issue with an API key."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from authority.formats.otp import is_valid_otp, otp_sha256_hex
from authority.otps import services
from authority.otps.models import ApiKey, Otp, OtpOrigin, OtpState
from tests.otps.conftest import days_ago, stored

pytestmark = pytest.mark.django_db

APP_CODE = "59FU36KR46"


def authorize(client, **body):
    payload = {"otp": APP_CODE, "symptoms_started_on": days_ago(1).isoformat(), **body}
    return client.post("/v1/otp", payload, format="json")


def test_it_authorizes_a_code_with_an_api_key(his_client, created_api_key, lazio):
    response = authorize(his_client)
    assert response.status_code == 204
    otp = stored(APP_CODE)
    assert (otp.origin, otp.state, otp.region) == (OtpOrigin.AUTHORIZED, OtpState.PENDING, lazio)
    assert otp.api_key == created_api_key.api_key
    assert otp.issued_by is None


def test_it_answers_409_1400_when_already_authorized(his_client):
    authorize(his_client)
    response = authorize(his_client)
    assert response.status_code == 409
    assert response.json() == {"error_code": 1400, "message": "OTP already authorized."}


RECENT = "recent"  # replaced by yesterday's date


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"otp": APP_CODE},
        {"symptoms_started_on": RECENT},
        {"otp": "59FU36KR47", "symptoms_started_on": RECENT},
        {"otp": "59FU36KR4", "symptoms_started_on": RECENT},
        {"otp": APP_CODE, "symptoms_started_on": "2026-13-40"},
        {"otp": APP_CODE, "symptoms_started_on": "yesterday"},
        {"otp": 1234567890, "symptoms_started_on": RECENT},
        {"otp": None, "symptoms_started_on": RECENT},
        [APP_CODE, RECENT],
    ],
    ids=[
        "empty",
        "no date",
        "no code",
        "check",
        "short",
        "bad date",
        "word",
        "number",
        "null",
        "list",
    ],
)
def test_it_answers_400_1001_to_schema_errors(his_client, body):
    if isinstance(body, dict):
        body = {
            key: days_ago(1).isoformat() if value == RECENT else value
            for key, value in body.items()
        }
    response = his_client.post("/v1/otp", body, format="json")
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert isinstance(response.json()["message"], str)
    assert not Otp.objects.exists()


def test_it_answers_400_1001_to_a_date_out_of_the_window(his_client):
    response = authorize(his_client, symptoms_started_on=days_ago(-1).isoformat())
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert "future" in response.json()["message"]


def test_it_answers_400_1001_to_malformed_json(his_client):
    response = his_client.post("/v1/otp", b"{", content_type="application/json")
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)


def test_it_requires_an_api_key():
    response = authorize(APIClient())
    assert response.status_code == 401
    assert response.json()["error_code"] == 1100
    assert response["WWW-Authenticate"] == "ApiKey"


def test_a_signed_in_person_is_not_an_api_client(operator, signed_in):
    response = signed_in(operator).post(
        "/v1/otp",
        {"otp": APP_CODE, "symptoms_started_on": days_ago(1).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 401


def test_it_refuses_an_unknown_key():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="ApiKey not-a-key")
    response = authorize(client)
    assert (response.status_code, response.json()["error_code"]) == (401, 1100)


def test_it_refuses_a_revoked_key_at_once(his_client, created_api_key, supervisor):
    assert authorize(his_client).status_code == 204
    services.revoke_api_key(actor=supervisor, api_key=created_api_key.api_key)
    response = authorize(his_client, otp="KJ23IWY5UJ")
    assert response.status_code == 401
    assert response.json() == {"error_code": 1100, "message": "Unknown or revoked API key."}


def test_it_notes_when_a_key_was_last_used(his_client, created_api_key):
    assert created_api_key.api_key.last_used_at is None
    authorize(his_client)
    assert ApiKey.objects.get().last_used_at is not None


def test_it_issues_a_code_returned_once(his_client, created_api_key):
    response = his_client.post(
        "/v1/otp/issue", {"symptoms_started_on": days_ago(0).isoformat()}, format="json"
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"otp", "expires_at"}
    assert is_valid_otp(body["otp"])
    otp = stored(body["otp"])
    assert otp.origin == OtpOrigin.ISSUED
    assert otp.api_key == created_api_key.api_key
    assert services.check_otp(otp_sha256_hex=otp_sha256_hex(body["otp"]))


def test_issuing_needs_a_valid_date(his_client):
    response = his_client.post("/v1/otp/issue", {}, format="json")
    assert (response.status_code, response.json()["error_code"]) == (400, 1001)
    assert "symptoms_started_on" in response.json()["message"]


def test_it_answers_429_with_retry_after_when_the_region_quota_is_reached(his_client, settings):
    settings.OTP_QUOTA_PER_REGION_PER_DAY = 1
    assert authorize(his_client).status_code == 204
    response = his_client.post(
        "/v1/otp/issue", {"symptoms_started_on": days_ago(0).isoformat()}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["error_code"] == 1401
    assert 0 < int(response["Retry-After"]) <= 25 * 3600


def test_the_schema_documents_both_endpoints_with_the_api_key():
    response = APIClient().get("/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    authorize_doc = schema["paths"]["/v1/otp"]["post"]
    issue_doc = schema["paths"]["/v1/otp/issue"]["post"]
    assert {"204", "400", "401", "409"} <= set(authorize_doc["responses"])
    assert {"201", "400", "401", "429"} <= set(issue_doc["responses"])
    assert schema["components"]["securitySchemes"]["apiKey"]["name"] == "Authorization"
    conflict = authorize_doc["responses"]["409"]["content"]["application/json"]["examples"]
    assert any(example["value"]["error_code"] == 1400 for example in conflict.values())
