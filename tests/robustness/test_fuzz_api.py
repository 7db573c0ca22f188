"""Fuzzing the whole device API (and the HIS endpoints) from its own OpenAPI description.

schemathesis generates requests from the schema served at /v1/schema/ — valid ones and, in negative mode, ones that
break the schema — for every operation under /v1/. Whatever it sends, the API must never
answer 5xx, and every error must be the `{error_code, message}` body of DESIGN.md 7.

Requests go through Django's test client (same thread and transaction as the test), so each
operation's examples run against a database with regions, a valid API key and a few usable
codes. The number of examples per operation is bounded (FUZZ_EXAMPLES, default 60) to keep
the whole file well under two minutes; set it higher for a longer local run.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any
from wsgiref.types import WSGIEnvironment

import pytest
import schemathesis
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err

from authority.formats.otp import generate_otp
from authority.otps.services import authorize_otp, create_api_key

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))

pytestmark = pytest.mark.django_db


def device_api_operations() -> dict[str, Any]:
    """Every operation under /v1/, from the schema the project serves at /v1/schema/."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    raw = json.loads(OpenApiJsonRenderer().render(document))
    schema = schemathesis.openapi.from_dict(raw).include(path_regex=r"^/v1/")
    operations = {}
    for result in schema.get_all_operations():
        # The schema is the one this project serves: an operation it cannot read fails here.
        if isinstance(result, Err):
            raise result.err()
        operations[result.ok().label] = result.ok()
    return operations


OPERATIONS = device_api_operations()


@pytest.fixture
def api_key(supervisor, lazio, settings) -> str:
    """A valid HIS key, usable codes for the device endpoints, throttles out of the way."""
    settings.DEVICE_API_RATES = {name: "100000/minute" for name in settings.DEVICE_API_RATES}
    settings.GUESSING_NETWORK_BURST = 1_000_000
    settings.OTP_QUOTA_PER_REGION_PER_DAY = 1_000_000
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 1_000_000
    cache.clear()
    for _ in range(3):
        authorize_otp(
            code=generate_otp(),
            onset_date=timezone.localdate() - timedelta(days=2),
            operator=supervisor,
        )
    return create_api_key(actor=supervisor, region=lazio, name="fuzz").key


def as_wsgi_header(value: Any) -> str:
    """What a WSGI server puts in META: the header's bytes read as Latin-1."""
    return str(value).encode("utf-8", "surrogatepass").decode("latin-1")


def send(case: schemathesis.Case, api_key: str):
    headers: WSGIEnvironment = {
        f"HTTP_{name.upper().replace('-', '_')}": as_wsgi_header(value)
        for name, value in (case.headers or {}).items()
    }
    if case.path.startswith("/v1/otp") and "HTTP_AUTHORIZATION" not in headers:
        headers["HTTP_AUTHORIZATION"] = f"ApiKey {api_key}"
    client = Client()
    path = case.formatted_path
    query = {key: value for key, value in (case.query or {}).items() if value is not None}
    if case.method.upper() == "GET":
        return client.get(path, query, **headers)
    body = case.body
    if body is None or type(body).__name__ == "NotSet":
        data: str | bytes = b""
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body)
    return client.generic(
        case.method.upper(),
        path,
        data,
        content_type=case.media_type or "application/json",
        **headers,
    )


def test_the_fuzzer_covers_every_device_and_his_endpoint():
    assert {
        "POST /v1/ingestion/check-otp",
        "POST /v1/ingestion/upload",
        "POST /v1/analytics/google/operational-info",
        "POST /v1/analytics/apple/operational-info",
        "POST /v1/analytics/apple/token",
        "GET /v1/keys/index",
        "GET /v1/keys/{index}",
        "GET /v1/keys/eu/{country}/index",
        "GET /v1/keys/eu/{country}/{index}",
        "POST /v1/otp",
        "POST /v1/otp/issue",
    } <= set(OPERATIONS)


# schemathesis' own pytest plugin does not run on pytest 9: its strategies are drawn here.
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_gets_a_server_error_and_every_error_has_the_error_shape(label, api_key):
    operation = OPERATIONS[label]
    cases = st.one_of(
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case: schemathesis.Case) -> None:
        response = send(case, api_key)
        assert response.status_code < 500, (case.method, case.path, response.content[:500])
        if response.status_code >= 400:
            assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
            body = response.json()
            assert set(body) == {"error_code", "message"}, body
            assert isinstance(body["error_code"], int)
            assert isinstance(body["message"], str) and body["message"]

    fuzz()
