"""What the log says about the phones' requests: their expected refusals are not log lines,
server errors are."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from authority.ingestion import services as ingestion_services
from tests.ingestion.conftest import AppClient, app_client

__all__ = ["app_client"]


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.request"]


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
