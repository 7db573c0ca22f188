"""What the logs say: the phones' expected refusals are not log lines, server errors are, and
no line of any process holds an address or a secret (DESIGN.md 3.3)."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import hypothesis
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client, override_settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from gunicorn.config import Config
from gunicorn.http.message import Request
from gunicorn.http.unreader import IterUnreader
from gunicorn.http.wsgi import Response
from hypothesis import strategies

from authority.ingestion import services as ingestion_services
from authority.operations.gunicorn_logging import GunicornLogger
from authority.operations.logging import (
    PUBLIC_ROUTE_PARAMETERS,
    RedactSecrets,
    loggable_path,
    redact,
)
from authority.operations.logscan import scan_lines
from tests.ingestion.conftest import AppClient, app_client

__all__ = ["app_client"]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "cbkz4p-0123456789abcdef0123456789abcdef"
INVITATION = f"/accounts/invitation/MQ/{TOKEN}/"


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.request"]


@contextmanager
def written_by(handler_name: str) -> Iterator[io.StringIO]:
    """What the handler LOGGING configures under this name writes, while the block runs."""
    [handler] = [
        handler
        for handler in logging._handlers.values()  # type: ignore[attr-defined]  # by name: public from 3.12 only
        if handler.get_name() == handler_name
    ]
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    try:
        yield written
    finally:
        handler.setStream(previous)


def no_address_found(text: str) -> bool:
    return scan_lines(text.splitlines(), file="-", secrets={}) == []


# --- The phones' refusals ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_phone_refused_leaves_no_log_line(app_client: AppClient, caplog, regions):
    with caplog.at_level(logging.INFO):
        assert app_client.check_otp(None).status_code == 401  # a code typed wrong
        assert app_client.upload(None, {"teks": "not a list"}).status_code == 400
        assert Client().get("/v1/keys/4242").status_code == 404  # not published yet

    assert request_records(caplog) == []


@pytest.mark.django_db
def test_the_rest_of_the_site_still_logs_its_client_errors(caplog):
    with caplog.at_level(logging.INFO):
        assert Client().get("/no-such-page/").status_code == 404

    [record] = request_records(caplog)
    assert record.levelno == logging.WARNING and "/no-such-page/" in record.getMessage()


@pytest.mark.django_db
def test_a_server_error_on_the_device_api_is_logged(app_client: AppClient, caplog, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(ingestion_services, "check_otp", broken)
    app_client.client.raise_request_exception = False
    with caplog.at_level(logging.INFO):
        response = app_client.check_otp(None)

    assert response.status_code == 500
    [record] = request_records(caplog)
    assert record.levelno == logging.ERROR and "/v1/ingestion/check-otp" in record.getMessage()


# --- Django's loggers, through the handlers settings.LOGGING configures -------------------


@pytest.mark.django_db
def test_a_mangled_invitation_link_is_logged_without_its_token():
    with written_by("console") as written:
        response = Client().get(INVITATION + "%C2%BB/")  # a mail program added a character

    assert response.status_code == 404
    assert "Not Found: /accounts/invitation/[redacted]" in written.getvalue()
    assert TOKEN not in written.getvalue() and "/MQ/" not in written.getvalue()


@pytest.mark.django_db
def test_a_refused_form_on_the_invitation_page_is_logged_without_uid_and_token(operator):
    operator.set_unusable_password()
    operator.save()
    uid = urlsafe_base64_encode(force_bytes(operator.pk))
    link = f"/accounts/invitation/{uid}/{default_token_generator.make_token(operator)}/"
    with written_by("console") as written:
        response = Client(enforce_csrf_checks=True).post(link, {"new_password1": "x"})

    assert response.status_code == 403
    logged = written.getvalue()
    assert "Forbidden (CSRF cookie not set.): /accounts/invitation/<uidb64>/<token>/" in logged
    assert link not in logged and f"/{uid}/" not in logged


@pytest.mark.django_db
def test_a_request_for_an_unknown_host_is_logged_without_the_address_it_named():
    with written_by("console") as written:
        response = Client().get("/accounts/login/", HTTP_HOST="10.20.30.40:8000")

    assert response.status_code == 400
    logged = written.getvalue()
    assert "Invalid HTTP_HOST header: '[address]:8000'" in logged
    assert "10.20.30.40" not in logged and no_address_found(logged)


@pytest.mark.django_db
def test_an_exception_s_text_and_traceback_are_redacted():
    logger = logging.getLogger("authority.test")
    with written_by("console") as written:
        try:
            raise ConnectionError(f'connection to server at "10.1.2.3" failed; link {INVITATION}')
        except ConnectionError:
            logger.exception("Health check %s failed from %s", "database", "2001:db8::5")

    logged = written.getvalue()
    assert "Health check database failed from [address]" in logged
    assert 'connection to server at "[address]" failed' in logged
    assert "ConnectionError" in logged and "Traceback" in logged
    assert TOKEN not in logged and "10.1.2.3" not in logged and no_address_found(logged)


def test_runserver_request_lines_are_redacted():
    """dev.py run serves through runserver, whose requests Django logs on django.server."""
    server = logging.getLogger("django.server")
    with written_by("server") as written:
        server.info('"%s" %s %s', f"GET {INVITATION}?next=/x HTTP/1.1", "200", "4573")
        server.info("- Broken pipe from %s", ("127.0.0.1", 52814))

    logged = written.getvalue()
    assert '"GET /accounts/invitation/<uidb64>/<token>/?[redacted] HTTP/1.1" 200 4573' in logged
    assert "- Broken pipe from ('[address]', 52814)" in logged
    assert no_address_found(logged) and TOKEN not in logged


def test_a_record_with_arguments_that_do_not_fit_is_still_logged_without_them():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "from %s and %s", ("1.2.3.4",), None)

    assert RedactSecrets().filter(record)
    assert record.getMessage() == "from %s and %s [arguments withheld: they do not fit the message]"


def test_a_record_is_rewritten_once_whatever_the_number_of_handlers():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "at %s", ("192.0.2.1",), None)
    RedactSecrets().filter(record)
    record.msg = "changed after the first handler: 192.0.2.1"

    RedactSecrets().filter(record)

    assert record.getMessage() == "changed after the first handler: 192.0.2.1"


# --- What redaction keeps and removes -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        (f"GET {INVITATION} HTTP/1.1", "GET /accounts/invitation/<uidb64>/<token>/ HTTP/1.1"),
        ("Not Found: //Accounts/Invitation/MQ/x/y", "Not Found: /accounts/invitation/[redacted]"),
        ("Listening at: http://127.0.0.1:8000 (12)", "Listening at: http://[address]:8000 (12)"),
        (
            "transport: redis://:**@10.0.0.7:6379/13",
            "transport: redis://[redacted]@[address]:6379/13",
        ),
        ("https://host.example/a?token=abc", "https://host.example/a?[redacted]"),
        ("from ::1 and [fe80::1%eth0]:80", "from [address] and [[address]%eth0]:80"),
        ("mapped ::ffff:192.0.2.1.", "mapped [address]."),
        ("Authorization: Bearer 4ec50b1f75ef4ad9", "Authorization: Bearer [redacted]"),
        (
            "Cookie: sessionid=abc; csrftoken=def",
            "Cookie: sessionid=[redacted]; csrftoken=[redacted]",
        ),
        ("{'token': 'x-y', 'password': 'p'}", "{'token': '[redacted]', 'password': '[redacted]'}"),
        ("hash " + "ab" * 32, "hash [redacted]"),
        ("session 0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p", "session [redacted]"),
        ("key_data z5mW0Hx1dnJ9kAXyCg4ReQ== end", "key_data [redacted] end"),
        ("code KJ23IWY5UJ typed", "code [redacted] typed"),
    ],
)
def test_redaction_removes(line, logged, db):
    assert redact(line) == logged


@pytest.mark.parametrize(
    "line",
    [
        '[03/Dec/2026:10:11:24 +0100] "POST /v1/ingestion/upload" 204 0 174ms',
        "GET /v1/keys/12 and /accounts/people/5/renew-invitation/",
        "/admin/accounts/user/5/change/ /statistics/charts/codes-per-day/data.csv",
        'File "/srv/app/.venv/lib/python3.11/site-packages/django/core/handlers/base.py", line 55',
        "Task tasks.publishing.publish_keys[6db01314-f928-464c-b64d-50cb5c60620c] succeeded",
        "celery@vm v5.7.0 Linux-6.18.44-x86_64 at 12:30:45 on 2026:08:38:12",
        "Password set; basic configuration checked; code KJ23IWY5UA is not a valid one",
    ],
)
def test_redaction_keeps(line, db):
    assert redact(line) == line


@hypothesis.given(
    address=strategies.ip_addresses(),
    before=strategies.sampled_from(["ip=", "from ", "('", "[", "http://", "x"]),
    after=strategies.sampled_from(["", ":", "', 80)", "]:8000", ": Invalid", "."]),
)
@hypothesis.settings(max_examples=300, deadline=None)
def test_the_redacted_form_of_any_address_passes_the_scan(address, before, after):
    line = f"{before}{address}{after}"
    assert not no_address_found(line), line  # the scan sees it...
    assert no_address_found(redact(line)), (line, redact(line))  # ...and it is gone


def test_route_parameters_that_may_be_logged_are_not_secrets():
    assert not PUBLIC_ROUTE_PARAMETERS & {"uidb64", "uid", "token", "key", "code", "otp", "url"}


@override_settings(ROOT_URLCONF="tests.operations.urls_with_reset_link")
def test_a_new_route_s_parameters_are_secret_unless_declared_public(db):
    assert loggable_path("/reset/Mg/set-4b1c9e/") == "/reset/<uidb64>/<token>/"
    assert loggable_path("/reset/Mg/set-4b1c9e/garbage") == "/reset/[redacted]"
    assert loggable_path("/things/42/") == "/things/42/"


# --- gunicorn ----------------------------------------------------------------------------------


def gunicorn_logger(access_log_format: str) -> tuple[GunicornLogger, io.StringIO, io.StringIO]:
    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", access_log_format)
    logger = GunicornLogger(config)
    access, error = io.StringIO(), io.StringIO()
    for log, stream in ((logger.access_log, access), (logger.error_log, error)):
        handler = log.handlers[0]  # gunicorn's handler for "-": a stream handler
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
    return logger, access, error


@pytest.mark.django_db
def test_gunicorn_access_log_shows_no_address_agent_referrer_query_or_secret():
    everything = (
        '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(U)s?%(q)s '
        "%({x-forwarded-for}i)s %({cookie}i)s %({set-cookie}o)s %({remote_addr}e)s"
    )
    logger, access, _error = gunicorn_logger(everything)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": INVITATION + "?next=/x",
        "PATH_INFO": INVITATION,
        "QUERY_STRING": "next=/x",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.23",
        "HTTP_REFERER": f"https://authority.example{INVITATION}",
        "HTTP_USER_AGENT": "Immuni/2.6.0 (device 7f3a9c)",
        "HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNzd29yZA==",
    }
    # gunicorn's own request, parsed from the bytes a client sent, and its response.
    request = Request(
        Config(),
        IterUnreader(
            [
                f"GET {INVITATION}?next=/x HTTP/1.1\r\n".encode()
                + b"X-Forwarded-For: 203.0.113.7\r\nCookie: sessionid=s3cr3t\r\n\r\n"
            ]
        ),
        ("198.51.100.23", 50123),
    )
    server_side, client_side = socket.socketpair()
    with server_side, client_side:
        response = Response(request, server_side, Config())
        response.status = "200 OK"
        response.sent = 4573
        response.headers = [("Set-Cookie", "csrftoken=c5rf")]

        logger.access(response, request, environ, timedelta(milliseconds=21))

    line = access.getvalue()
    assert '"GET /accounts/invitation/<uidb64>/<token>/ HTTP/1.1" 200 4573' in line
    assert "/accounts/invitation/<uidb64>/<token>/?" in line
    for withheld in ("198.51.100", "203.0.113", "Immuni", "authority.example", "next=", "s3cr3t"):
        assert withheld not in line
    assert "c5rf" not in line and TOKEN not in line and "user" not in line


@pytest.mark.django_db
def test_gunicorn_error_log_shows_no_address_and_no_link():
    logger, _access, error = gunicorn_logger("%(r)s")

    # What gunicorn's worker writes for a request line it cannot parse (workers/base.py).
    logger.warning(f"Invalid request from ip=::1: Invalid HTTP request line: 'GET {INVITATION}'")
    logger.exception("Error handling request %s", f"{INVITATION}?x=1")

    logged = error.getvalue()
    assert (
        "Invalid request from ip=[address]: Invalid HTTP request line: "
        "'GET /accounts/invitation/<uidb64>/<token>/'"
    ) in logged
    assert "Error handling request /accounts/invitation/<uidb64>/<token>/?[redacted]" in logged
    assert TOKEN not in logged and no_address_found(logged)


def test_gunicorn_conf_names_the_logger_class(monkeypatch):
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the file sets defaults in it
    config: dict[str, object] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), config)

    assert config["logger_class"] == "authority.operations.gunicorn_logging.GunicornLogger"


# --- Celery ------------------------------------------------------------------------------------


def test_celery_worker_and_beat_use_the_redacting_classes():
    from authority.operations.celery_logging import RedactedBeat, RedactedWorker
    from tasks import app

    assert issubclass(app.Worker, RedactedWorker) and issubclass(app.Beat, RedactedBeat)


def test_celery_s_own_logging_set_up_redacts_every_record():
    """In a process of its own, as a worker sets up its logging: the root logger's handlers
    (replaced by Celery's) and the task loggers'."""
    program = """
import logging
from celery.utils.log import get_task_logger
from tasks import app
app.log.setup(loglevel="INFO")
logging.getLogger("kombu").info("Connected to redis://:pw@10.9.8.7:6379/0")
get_task_logger("tasks.example").warning("task argument Bearer 4ec50b1f75ef4ad9 from ::1")
"""
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    logged = result.stdout + result.stderr
    assert "Connected to redis://[redacted]@[address]:6379/0" in logged, logged
    assert "task argument Bearer [redacted] from [address]" in logged, logged
    assert no_address_found(logged) and "4ec50b1f" not in logged
