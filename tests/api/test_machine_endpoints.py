"""What every machine endpoint shares (authority.api.views): no-store, no OPTIONS metadata, a
JSON object or a schema error."""

from __future__ import annotations

import json
import secrets
from wsgiref.types import WSGIEnvironment

import pytest
from django.test import Client
from rest_framework.test import APIClient

from authority.otps.services import create_api_key

pytestmark = pytest.mark.django_db

DEVICE_POSTS = [
    "/v1/ingestion/check-otp",
    "/v1/ingestion/upload",
    "/v1/analytics/google/operational-info",
    "/v1/analytics/apple/operational-info",
    "/v1/analytics/apple/token",
]
HIS_POSTS = ["/v1/otp", "/v1/otp/issue"]
DOWNLOADS = [
    "/v1/keys/index",
    "/v1/keys/index.txt",
    "/v1/keys/1",
    "/v1/keys/public-keys",
    "/v1/keys/public-key.pem",
    "/v1/keys/eu/DE/index",
    "/v1/keys/eu/DE/1",
]


@pytest.fixture
def his(supervisor, lazio) -> APIClient:
    client = APIClient()
    key = create_api_key(actor=supervisor, region=lazio, name="HIS").key
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return client


def device_headers() -> WSGIEnvironment:
    return {
        "HTTP_AUTHORIZATION": f"Bearer {secrets.token_hex(32)}",
        "HTTP_IMMUNI_DUMMY_DATA": "0",
        "HTTP_IMMUNI_CLIENT_CLOCK": "1767225600",
    }


@pytest.mark.parametrize("path", DEVICE_POSTS + HIS_POSTS + DOWNLOADS)
def test_no_endpoint_describes_itself_to_options(path, regions, his):
    response = his.options(path, **device_headers())
    assert response.status_code == 405
    assert response.json()["error_code"] == 1003
    assert "OPTIONS" not in response["Allow"]
    assert response["Cache-Control"] == "no-store"


def client_for(path: str, his: APIClient) -> tuple[Client, WSGIEnvironment]:
    """A HIS's client (its key) for a HIS endpoint, a phone's (a well-formed bearer and the
    Immuni headers) for a device endpoint: each request gets past everything but its body."""
    if path in HIS_POSTS:
        return his, {}
    return Client(), device_headers()


NOT_AN_OBJECT = "The body must be a JSON object."
TOO_DEEP = "JSON parse error - the body is nested too deeply."


@pytest.mark.parametrize("path", DEVICE_POSTS + HIS_POSTS)
@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("text/plain", '{"padding": ""}', 'Unsupported media type "text/plain" in request.'),
        (
            "application/x-www-form-urlencoded",
            "padding=",
            'Unsupported media type "application/x-www-form-urlencoded" in request.',
        ),
        (
            "multipart/form-data; boundary=x",
            "--x--",
            'Unsupported media type "multipart/form-data; boundary=x" in request.',
        ),
        ("application/json", "", NOT_AN_OBJECT),
        ("application/json", "[]", NOT_AN_OBJECT),
        ("application/json", "null", NOT_AN_OBJECT),
        ("application/json", '"padding"', NOT_AN_OBJECT),
        ("application/json", "{", "JSON parse error - Expecting property name enclosed in"),
        ("application/json", '{"padding": NaN}', "JSON parse error - Out of range float values"),
        # Deeper than Python's stack: json raises RecursionError, which DRF does not map. Small
        # enough for the HIS endpoints' 8 KiB.
        ("application/json", "[" * 4000 + "]" * 4000, TOO_DEEP),
        ("application/json", '{"padding": ' + "[" * 3000 + "]" * 3000 + "}", TOO_DEEP),
    ],
    ids=[
        "text",
        "form",
        "multipart",
        "empty",
        "list",
        "null",
        "string",
        "truncated",
        "nan",
        "nested",
        "nested-field",
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_schema_error(
    path, regions, his, content_type, body, message, caplog
):
    client, headers = client_for(path, his)
    response = client.generic("POST", path, body, content_type=content_type, **headers)
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == 1001
    assert response.json()["message"].startswith(message)
    assert response["Cache-Control"] == "no-store"
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


@pytest.mark.parametrize("path", DEVICE_POSTS)
def test_deeply_nested_json_of_any_size_a_device_may_send_is_a_schema_error(path, regions):
    response = Client().generic(
        "POST", path, "[" * 100_000, content_type="application/json", **device_headers()
    )
    assert response.status_code == 400
    assert response.json() == {"error_code": 1001, "message": TOO_DEEP}


@pytest.mark.parametrize("path", HIS_POSTS)
def test_his_endpoints_answer_405_to_options_before_asking_for_a_key(path, regions):
    # DRF authenticates before it dispatches on the method: without the base view's check a
    # client without a key would get 401, and learn that the endpoint wants one.
    response = Client().options(path)
    assert response.status_code == 405
    assert response.json()["error_code"] == 1003
    assert response["Allow"] == "POST"


def test_a_get_on_a_device_endpoint_spends_no_allowance(regions, settings):
    settings.DEVICE_API_RATES = {**settings.DEVICE_API_RATES, "check-otp": "1/minute"}
    for _ in range(3):
        assert Client().get("/v1/ingestion/check-otp", **device_headers()).status_code == 405
    response = Client().post(
        "/v1/ingestion/check-otp",
        data=json.dumps({"padding": ""}),
        content_type="application/json",
        **device_headers(),
    )
    assert response.status_code == 401  # the first request that counts, not 429


def test_a_body_without_a_content_type_is_a_schema_error(regions):
    response = Client().generic(
        "POST", "/v1/ingestion/check-otp", b'{"padding": ""}', content_type="", **device_headers()
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/ingestion/check-otp", 401),
        ("/v1/ingestion/upload", 400),
        ("/v1/analytics/google/operational-info", 400),
        ("/v1/analytics/apple/operational-info", 400),
        ("/v1/analytics/apple/token", 400),
    ],
)
def test_every_device_answer_is_no_store(path, status, regions):
    response = Client().post(
        path, data=json.dumps({}), content_type="application/json", **device_headers()
    )
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"


def test_every_his_answer_is_no_store(his):
    answers = [
        his.post("/v1/otp", {"otp": "KJ23IWY5UJ", "symptoms_started_on": "2000-01-01"}, "json"),
        his.post("/v1/otp/issue", {"symptoms_started_on": "x"}, "json"),
        APIClient().post("/v1/otp", {}, "json"),  # no key
    ]
    assert [answer.status_code for answer in answers] == [400, 400, 401]
    assert {answer["Cache-Control"] for answer in answers} == {"no-store"}


def test_device_endpoints_answer_json_whatever_the_accept_header(regions):
    response = Client().post(
        "/v1/ingestion/check-otp",
        data=json.dumps({}),
        content_type="application/json",
        HTTP_ACCEPT="application/xml",
        **device_headers(),
    )
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
