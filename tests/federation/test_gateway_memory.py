"""Exactly once beyond the gateway's memory: a batch whose answer was lost is settled by the gateway's audit, or held.

The gateway remembers stored keys (and so its 409 and 207) only until its nightly clean-up,
2 to 3 days later, and its key validator answers 400 before the tag check. These tests move
both clocks, ours and the test gateway's, and run the gateway's clean-up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from authority.audit.models import Action, AuditEntry
from authority.federation import metrics, upload
from authority.federation.models import FederationRun, OutboundBatch, OutboundKey
from tests.federation.conftest import GatewayHandle, foreign_key
from tests.federation.test_upload import _counter, _gateway_keys, _no_sleep, _offer


def _midnight() -> datetime:
    """Midnight UTC of the first attempt (real time): later moments count from it, so that
    they mean the same on whatever hour the suite runs."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _two_days_on() -> datetime:
    """A key of 14 days ago has left the gateway's window (midnight minus 15 days), and the
    gateway still remembers what it stored on the first attempt's day."""
    return _midnight() + timedelta(days=2, hours=12)


def _three_days_on() -> datetime:
    """The gateway's clean-up has deleted what it stored on the first attempt's day."""
    return _midnight() + timedelta(days=3, hours=1)


def _uploads(gateway: GatewayHandle) -> list[dict[str, Any]]:
    return [r for r in gateway.state()["requests"] if r["method"] == "POST"]


def _first_attempt_lost(gateway: GatewayHandle, settings: Any, fault: str, **offer: Any) -> None:
    """One run whose only request got `fault` (the answer lost): the batch stays pending."""
    settings.FEDERATION_ATTEMPTS = 1
    _offer(2, **offer)
    # Another country's upload, so that the audit has more than ours to look through.
    assert gateway.upload_as([foreign_key()]).status_code == 201
    gateway.fault("upload", fault)
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.FAILED
    batch = OutboundBatch.objects.get()
    assert batch.status == OutboundBatch.Status.PENDING
    assert batch.first_sent_at is not None
    gateway.batch()


def _run_at(gateway: GatewayHandle, moment: datetime) -> FederationRun:
    gateway.set_clock(moment)
    with time_machine.travel(moment, tick=True):
        run = upload.run_upload(sleep=_no_sleep)
    assert run is not None
    return run


def test_a_batch_stored_with_its_answer_lost_is_found_in_the_audit_and_not_sent_again(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    # Re-sent two days later, it would get 400 (a key aged out), not 409: the audit answers.
    _first_attempt_lost(federation, settings, "drop_after_store", days_ago=14)

    run = _run_at(federation, _two_days_on())

    assert run.status == FederationRun.Status.SUCCEEDED, run.message
    batch = OutboundBatch.objects.get()
    assert batch.status == OutboundBatch.Status.SHARED
    assert "in the gateway's audit" in batch.message
    assert len(_uploads(federation)) == 2  # the other country's and our first attempt
    assert len(_gateway_keys(federation)) == 2
    assert run.keys_shared == 2
    assert _counter(metrics.KEYS_SHARED) == 2


def test_a_batch_never_stored_is_sent_again_once_the_audit_says_so(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    _first_attempt_lost(federation, settings, "error_500", days_ago=3)

    run = _run_at(federation, _two_days_on())

    assert run.status == FederationRun.Status.SUCCEEDED, run.message
    assert [r["status"] for r in _uploads(federation)] == [201, 500, 201]
    assert OutboundBatch.objects.get().status == OutboundBatch.Status.SHARED
    assert len(_gateway_keys(federation)) == 2


def test_a_400_to_a_batch_the_audit_shows_was_never_stored_releases_its_keys(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    _first_attempt_lost(federation, settings, "error_500", days_ago=14)

    run = _run_at(federation, _two_days_on())

    assert run.status == FederationRun.Status.SUCCEEDED, run.message
    assert [r["status"] for r in _uploads(federation)] == [201, 500, 400]
    batch = OutboundBatch.objects.get()
    assert (batch.status, batch.last_status) == (OutboundBatch.Status.REFUSED, 400)
    assert OutboundKey.objects.filter(batch__isnull=True).count() == 2
    assert _gateway_keys(federation) == []


def test_a_batch_the_gateway_may_have_stored_and_has_forgotten_is_held_for_an_operator(
    db: None, federation: GatewayHandle, settings: Any, signed_in: Any, administrator: Any
) -> None:
    _first_attempt_lost(federation, settings, "drop_after_store", days_ago=3)
    later = _three_days_on()
    federation.set_clock(later)
    assert federation.admin("/admin/clean-up", {})["deleted"] == 3  # ours and the other's

    run = _run_at(federation, later)

    # Sent again, it would be stored a second time (the gateway no longer knows its tag).
    assert len(_uploads(federation)) == 2
    batch = OutboundBatch.objects.get()
    assert batch.status == OutboundBatch.Status.HELD
    assert batch.held_by_id == run.pk
    assert "held for an operator" in run.message and batch.batch_tag in run.message
    entry = AuditEntry.objects.filter(action=Action.FEDERATION_RUN_FINISHED).latest("id")
    assert entry.details["held_batches"] == [batch.batch_tag]
    assert _counter(metrics.UPLOADS_HELD) == 1
    # Later runs leave it alone.
    _run_at(federation, later + timedelta(hours=2))
    assert len(_uploads(federation)) == 2
    page = signed_in(administrator).get("/federation/").content.decode()
    assert "Batches held for a decision" in page
    assert batch.batch_tag in page


def test_a_batch_the_gateway_refused_as_a_client_is_not_held_days_later(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    # A 403 says nothing was stored: the batch may be sent whenever the certificate is fixed.
    settings.FEDERATION_TLS_CERT_FILE, settings.FEDERATION_TLS_KEY_FILE = federation.pki.pair(
        "it-unregistered-tls"
    )
    _offer(2, days_ago=3)
    upload.run_upload(sleep=_no_sleep)
    batch = OutboundBatch.objects.get()
    assert (batch.status, batch.last_status, batch.first_sent_at) == (
        OutboundBatch.Status.PENDING,
        403,
        None,
    )
    settings.FEDERATION_TLS_CERT_FILE, settings.FEDERATION_TLS_KEY_FILE = federation.pki.pair(
        "it-tls"
    )

    run = _run_at(federation, _three_days_on())

    assert run.status == FederationRun.Status.SUCCEEDED, run.message
    assert OutboundBatch.objects.get().status == OutboundBatch.Status.SHARED
    assert len(_gateway_keys(federation)) == 2


@pytest.mark.parametrize("hours_before_midnight", [2, 0.5])
def test_the_hold_comes_an_hour_before_the_gateways_clean_up(
    db: None, federation: GatewayHandle, settings: Any, hours_before_midnight: float
) -> None:
    # Our clock and the gateway's may differ: within the last hour before its clean-up
    # deletes the first attempt's day, the batch is already held.
    _first_attempt_lost(federation, settings, "drop_after_store", days_ago=3)
    moment = _midnight() + timedelta(days=3) - timedelta(hours=hours_before_midnight)
    _run_at(federation, moment)
    expected = (
        OutboundBatch.Status.HELD if hours_before_midnight < 1 else OutboundBatch.Status.SHARED
    )
    assert OutboundBatch.objects.get().status == expected
    assert len(_gateway_keys(federation)) == 2


def test_a_batch_whose_audit_cannot_be_read_waits_and_is_not_sent_again(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    _first_attempt_lost(federation, settings, "drop_after_store", days_ago=14)
    settings.FEDERATION_TLS_CERT_FILE, settings.FEDERATION_TLS_KEY_FILE = federation.pki.pair(
        "it-unregistered-tls"
    )

    run = _run_at(federation, _two_days_on())

    assert run.status == FederationRun.Status.FAILED
    assert "cannot be learnt now" in run.message and "403" in run.message
    assert OutboundBatch.objects.get().status == OutboundBatch.Status.PENDING
    assert len(_uploads(federation)) == 2
