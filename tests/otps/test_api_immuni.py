"""Immuni's own tests of POST /v1/otp (the HIS authorizing a code), ported case by case.

Source (immuni-app/immuni-backend-otp): tests/test_apis/test_otp.py. Immuni's OTP service
trusted its network (mutual TLS in front of it); this one asks the HIS for an API key, so
every request here carries one. The 64-hex "OTP" with an id_test_verification is Italy's
health-card flow (check-cun), which this product does not have: such a body is a schema error.
"""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from authority.otps import services
from authority.otps.models import Otp
from tests.otps.conftest import days_ago

pytestmark = pytest.mark.django_db

URI = "/v1/otp"
VALID_JSON = {"otp": "KJ23IWY5UJ", "symptoms_started_on": days_ago(0).isoformat()}
VALID_JSON_SHA = {
    "otp": "b39e0733843b1b5d7c558f52f117a824dc41216e0c2bb671b3d79ba82105dd94",
    "symptoms_started_on": days_ago(0).isoformat(),
    "id_test_verification": "2d8af3b9-2c0a-4efc-9e15-72454f994e1f",
}
INVALID_JSON = {**VALID_JSON_SHA, "id_test_verification": None}


def send(client: APIClient, method: str, body: object | None):
    data = json.dumps(body) if body is not None else ""
    return client.generic(method, URI, data, content_type="application/json; charset=utf-8")


def assert_schema_error(response) -> None:
    assert response.status_code == 400
    assert set(response.json()) == {"error_code", "message"}
    assert response.json()["error_code"] == 1001
    assert response["Cache-Control"] == "no-store"


def test_immuni_otp_success(his_client):
    response = send(his_client, "POST", VALID_JSON)
    assert response.status_code == 204
    assert response["Cache-Control"] == "no-store"
    assert response.content == b""
    assert Otp.objects.count() == 1


def test_immuni_otp_success_with_a_sha_is_the_health_card_flow_we_lack(his_client):
    """Immuni's second success case (a SHA-256 with an id_test_verification): not ported as a
    success; this product authorizes 10-character codes only (docs/compatibility.md)."""
    assert_schema_error(send(his_client, "POST", VALID_JSON_SHA))
    assert not Otp.objects.exists()


@pytest.mark.parametrize("method", ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "PUT"])
@pytest.mark.parametrize("has_json", [True, False])
def test_immuni_otp_method_not_allowed(his_client, method, has_json):
    response = send(his_client, method, VALID_JSON if has_json else None)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    if method != "HEAD":  # a HEAD answer has no body
        assert response.json()["error_code"] == 1003
    assert not Otp.objects.exists()


def test_immuni_otp_missing_json(his_client):
    assert_schema_error(send(his_client, "POST", None))


def test_immuni_otp_invalid_json(his_client):
    assert_schema_error(send(his_client, "POST", {"invalid": "json"}))


def test_immuni_otp_store_failure(his_client, monkeypatch):
    # Storage failing under the view (Immuni's test made its store raise): a 500 in the
    # error body's shape, nothing about the failure in it.
    def failing_store(**kwargs: object) -> None:
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(services, "authorize_otp", failing_store)
    response = send(his_client, "POST", VALID_JSON)
    assert response.status_code == 500
    assert response.json() == {"error_code": 1000, "message": "An unexpected error occurred."}
    assert response["Cache-Control"] == "no-store"


def test_immuni_otp_invalid_length(his_client):
    assert_schema_error(send(his_client, "POST", INVALID_JSON))
    assert not Otp.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_immuni_otp_a_body_that_is_not_json_is_a_schema_error(his_client, content_type):
    # Immuni's validate() refused any content type but application/json (helpers/sanic.py).
    response = his_client.generic("POST", URI, json.dumps(VALID_JSON), content_type=content_type)
    assert_schema_error(response)
    assert not Otp.objects.exists()
