"""The gateway's notifications of new batches (GET /v1/federation/callback?batchTag=&date=): a
download follows, at most one queued at a time, only behind the TLS terminator's word."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from wsgiref.types import WSGIEnvironment

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from authority.federation import configuration
from authority.federation.models import FederationRun, ReceivedKey
from tests.federation.conftest import GatewayHandle, foreign_key

pytestmark = pytest.mark.django_db

URL = "https://authority.example.test/v1/federation/callback"
HEADER = "X-SSL-Client-Verify"
QUERY = {"batchTag": "20261203-1", "date": "2026-12-03"}


@pytest.fixture
def subscribed(federation: GatewayHandle, settings: Any) -> GatewayHandle:
    settings.FEDERATION_CALLBACK_URL = URL
    settings.FEDERATION_CALLBACK_VERIFY_HEADER = HEADER
    return federation


def _notify(client: Client, verified: str | None = "SUCCESS", **query: str):
    headers: WSGIEnvironment = {} if verified is None else {"HTTP_X_SSL_CLIENT_VERIFY": verified}
    return client.get("/v1/federation/callback", {**QUERY, **query}, **headers)


def test_a_notification_queues_a_download_that_brings_the_new_keys(
    subscribed: GatewayHandle, client: Client, django_capture_on_commit_callbacks
) -> None:
    keys = [foreign_key(origin="FR", visited=("IT",)) for _ in range(3)]
    assert subscribed.upload_as(keys, client="fr-tls", signer="fr-signing").status_code == 201
    subscribed.batch()
    with django_capture_on_commit_callbacks(execute=True):
        response = _notify(client)
    assert response.status_code == 202
    assert response["Cache-Control"] == "no-store"
    run = FederationRun.objects.get()
    assert (run.kind, run.trigger, run.status) == ("download", "callback", "succeeded")
    assert {bytes(k) for k in ReceivedKey.objects.values_list("key_data", flat=True)} == {
        key.key_data for key in keys
    }
    entry = AuditEntry.objects.get(action=Action.FEDERATION_RUN_FINISHED)
    assert entry.actor_username == "gateway notification"


def test_notifications_queue_at_most_one_download_a_minute(
    subscribed: GatewayHandle, client: Client
) -> None:
    # Not executed (no on-commit callbacks here): the first run stays queued.
    assert _notify(client).status_code == 202
    assert _notify(client, batchTag="20261203-2").status_code == 202
    assert FederationRun.objects.count() == 1
    FederationRun.objects.update(status=FederationRun.Status.SUCCEEDED)
    assert _notify(client, batchTag="20261203-3").status_code == 202
    assert FederationRun.objects.count() == 1  # started less than a minute ago
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert _notify(client, batchTag="20261203-4").status_code == 202
    assert FederationRun.objects.count() == 2


@pytest.mark.parametrize("verified", [None, "NONE", "FAILED:certificate expired", ""])
def test_without_the_tls_terminators_word_it_is_an_unknown_path(
    subscribed: GatewayHandle, client: Client, verified: str | None
) -> None:
    response = _notify(client, verified)
    assert response.status_code == 404
    assert response.json()["error_code"] == 1002
    assert not FederationRun.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        {"batchTag": ""},
        {"batchTag": "a/b"},
        {"batchTag": "x" * 101},
        {"date": "yesterday"},
        {"date": ""},
    ],
)
def test_a_malformed_notification_is_a_schema_error(
    subscribed: GatewayHandle, client: Client, query: dict[str, str]
) -> None:
    response = _notify(client, **query)
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert not FederationRun.objects.exists()


def test_without_a_subscription_there_is_no_callback(
    federation: GatewayHandle, client: Client, settings: Any
) -> None:
    settings.FEDERATION_CALLBACK_URL = ""
    assert _notify(client).status_code == 404
    settings.FEDERATION_CALLBACK_URL = URL
    settings.FEDERATION_GATEWAY_URL = ""
    assert _notify(client).status_code == 404
    assert not FederationRun.objects.exists()


def test_the_callback_takes_get_only(subscribed: GatewayHandle, client: Client) -> None:
    response = client.post("/v1/federation/callback", QUERY, HTTP_X_SSL_CLIENT_VERIFY="SUCCESS")
    assert response.status_code == 405
    assert response.json()["error_code"] == 1003


def test_production_refuses_a_callback_without_the_tls_terminators_header(
    subscribed: GatewayHandle, settings: Any
) -> None:
    settings.FEDERATION_CALLBACK_VERIFY_HEADER = ""
    with pytest.raises(ImproperlyConfigured, match="FEDERATION_CALLBACK_VERIFY_HEADER"):
        configuration.check_at_start_up()
    settings.FEDERATION_CALLBACK_VERIFY_HEADER = HEADER
    assert configuration.check_at_start_up().country == "IT"
