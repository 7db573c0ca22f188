"""GET /v1/settings through the real servers: the Android app reads the server's clock from the
answer's `Date` header with `!!` (immuni-app-android ConfigurationSettingsNetworkRepository.kt),
so an answer without it would crash the app. Django does not set it; gunicorn (production) and
Django's development server (runserver, the embedded run) do, and these tests say so."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest

from tests.appconfig.conftest import ensure_initial_versions
from tests.robustness.conftest import live_gunicorn, private_redis  # noqa: F401  (fixtures)
from tests.robustness.live import LiveGunicorn

PATH = "/v1/settings?platform=android&build=2600123"


def fetch(host: str, port: int, path: str) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def assert_dated_settings(answer: tuple[http.client.HTTPResponse, bytes]) -> None:
    response, body = answer
    assert response.status == 200
    assert json.loads(body)["teks_packet_size"] == 110_000
    date = response.getheader("Date")
    assert date is not None, "the Android app crashes on an answer without Date"
    assert abs((parsedate_to_datetime(date) - datetime.now(UTC)).total_seconds()) < 120


@pytest.mark.django_db(transaction=True)
def test_the_development_server_answers_with_a_date(live_server):
    """pytest-django's live_server runs Django's own WSGI server, the one runserver uses."""
    ensure_initial_versions()
    address = urlsplit(live_server.url)
    assert_dated_settings(fetch(address.hostname or "", address.port or 80, PATH))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_answers_with_a_date(live_gunicorn: Callable[..., LiveGunicorn]):  # noqa: F811
    ensure_initial_versions()
    server = live_gunicorn()
    assert_dated_settings(fetch("127.0.0.1", server.port, PATH))
