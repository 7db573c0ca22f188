"""HIS API keys never reach a log, whatever a client did with its Authorization header, and a
bad Host header is one short line (review 12, finding 9)."""

from __future__ import annotations

import logging
import secrets

import pytest
from django.test import Client
from gunicorn.http.errors import InvalidHeader

from authority.operations.logging import SUSPICIOUS_MESSAGE_LENGTH, redact
from tests.operations.test_logging import no_address_found, written_by

# The shape create_api_key makes, with "-" and "_" inside (where the long-run rules stopped).
API_KEY = "AbCdEfGh-ij_KLmnop0123456789-qrSTuvwx_yz456"
assert len(API_KEY) == len(secrets.token_urlsafe(32))


def test_a_header_without_its_colon_is_logged_without_the_api_key():
    """gunicorn refuses the header line and logs it whole in its error log, which goes
    through RedactSecrets (test_logging.py checks that wiring)."""
    refused = InvalidHeader(f"Authorization ApiKey {API_KEY}")
    # What gunicorn's worker writes (workers/base.py, handle_error).
    message = f"Invalid request from ip=203.0.113.7: {refused}"
    assert API_KEY in message

    logged = redact(message)
    assert logged == (
        "Invalid request from ip=[address]: Invalid HTTP Header: 'Authorization ApiKey [redacted]'"
    )
    assert no_address_found(logged)


@pytest.mark.parametrize(
    "written",
    [
        f"Authorization: ApiKey {API_KEY}",
        f"'HTTP_AUTHORIZATION': 'ApiKey {API_KEY}'",
        f"authorization={API_KEY}",
        f"Authorization: Token {API_KEY}",
        f"Proxy-Authorization: Digest {API_KEY}",
        f"Authorization: {API_KEY}",  # no scheme at all
        f"ApiKey {API_KEY}",
        f"the key {API_KEY} was refused",  # the bare shape
        f"Authorization ApiKey {API_KEY[:20]}",  # a key cut short
    ],
)
def test_an_api_key_is_redacted_wherever_it_stands(written):
    redacted = redact(written)
    assert "[redacted]" in redacted
    assert API_KEY[:20] not in redacted and API_KEY[-12:] not in redacted
    assert redact(redacted) == redacted  # a record goes through several handlers


@pytest.mark.parametrize(
    "harmless",
    [
        "Authorization header missing",
        "Authorization: Bearer [redacted]",
        "test_immuni_ingestion_upload_rejects_missing_dummy_header_and_more",
        "authority.operations.logging.SuspiciousRequestsOnOneLine",
    ],
)
def test_words_and_names_are_not_taken_for_keys(harmless):
    assert redact(harmless) == harmless


@pytest.mark.django_db
def test_a_bad_host_header_is_one_warning_line_without_traceback(caplog):
    with written_by("console") as written:
        response = Client().get("/accounts/login/", HTTP_HOST="attacker.example")

    assert response.status_code == 400
    lines = written.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert "WARNING django.security.DisallowedHost: Invalid HTTP_HOST header: " in lines[0]
    assert "'attacker.example'" in lines[0]
    assert "Traceback" not in written.getvalue()


@pytest.mark.django_db
def test_a_huge_bad_host_header_is_cut_short():
    host = "a" * 8000 + ".example"
    with written_by("console") as written:
        assert Client().get("/accounts/login/", HTTP_HOST=host).status_code == 400

    [line] = written.getvalue().splitlines()
    assert len(line) < SUSPICIOUS_MESSAGE_LENGTH + 100
    assert "django.security.DisallowedHost" in line


@pytest.mark.django_db
def test_other_loggers_keep_their_tracebacks_and_levels():
    logger = logging.getLogger("authority.test")
    with written_by("console") as written:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("something broke")

    logged = written.getvalue()
    assert "ERROR authority.test: something broke" in logged and "Traceback" in logged
