"""The OpenAPI description of the device API, generated from the code, and its reference page."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get("/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.parametrize("path", ["/v1/ingestion/check-otp", "/v1/ingestion/upload"])
def test_the_device_endpoints_are_described_with_their_headers_and_errors(schema, path):
    operation = schema["paths"][path]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert {"Authorization", "Immuni-Dummy-Data"} <= headers
    assert {"204", "400", "401", "429"} <= set(operation["responses"])
    error = operation["responses"]["401"]["content"]["application/json"]
    assert error["examples"]["Unauthorized"]["value"] == {
        "error_code": 1101,
        "message": "Unauthorized OTP.",
    }


def test_the_upload_body_is_described_field_by_field(schema):
    body = schema["components"]["schemas"]["UploadRequest"]
    assert set(body["required"]) >= {"province", "teks", "exposure_detection_summaries"}
    tek = schema["components"]["schemas"]["TemporaryExposureKey"]["properties"]
    assert tek["rolling_period"]["maximum"] == 144


def test_the_reference_page_is_served_without_a_cdn_or_inline_script(db):
    page = Client().get("/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "<script>" not in page and "<style>" not in page and "https://" not in page
