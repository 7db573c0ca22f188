"""GET /v1/settings through the real servers: the Android app reads the server's clock from the
answer's `Date` header with `!!` (immuni-app-android ConfigurationSettingsNetworkRepository.kt),
so an answer without it would crash the app. Django does not set it; gunicorn (production) and
Django's development server (runserver, the embedded run) do, and these tests say so."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.core.wsgi import get_wsgi_application

from authority.appconfig import serving
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


@pytest.mark.django_db
def test_the_development_server_answers_with_a_date(initial_versions, settings, monkeypatch):
    """Django's own WSGI server, the one runserver uses, in a thread of this process. The
    settings are served from the process's copy, made here first, so the server's thread reads
    no database (this test's data is not committed: a transactional test would empty the
    database for the tests after it)."""
    settings.APP_SETTINGS_RECHECK_SECONDS = 300
    monkeypatch.setattr(serving, "monotonic", lambda: 1000.0)
    assert serving.cache.answer("android", 2_600_123) is not None
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert_dated_settings(fetch("127.0.0.1", server.server_address[1], PATH))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # gunicorn reads what the test committed
def test_gunicorn_answers_with_a_date(live_gunicorn: Callable[..., LiveGunicorn]):  # noqa: F811
    ensure_initial_versions()
    server = live_gunicorn()
    assert_dated_settings(fetch("127.0.0.1", server.port, PATH))
