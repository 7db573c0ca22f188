"""Retention of the federation's keys and records, and the Celery tasks that run the federation."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from authority.federation.models import (
    FederationRun,
    InboundBatch,
    OutboundBatch,
    OutboundKey,
    ReceivedKey,
)
from authority.federation.retention import apply_retention
from tasks import federation as federation_tasks
from tests.federation.conftest import GatewayHandle, day_start


def _outbound(days_ago: int, batch: OutboundBatch | None = None) -> OutboundKey:
    return OutboundKey.objects.create(
        key_data=os.urandom(16), rolling_start_interval_number=day_start(days_ago), rolling_period=144,
        transmission_risk_level=0x7FFFFFFF, report_type=1, days_since_onset_of_symptoms=0,
        visited_countries="DE", shareable_from=datetime.now(UTC), batch=batch,
    )  # fmt: skip


def _received(days_ago: int) -> ReceivedKey:
    start = day_start(days_ago)
    return ReceivedKey.objects.create(
        key_data=os.urandom(16), rolling_start_interval_number=start, rolling_period=144,
        rolling_end_interval_number=start + 144, report_type=1, origin="DE",
        visited_countries=",IT,", for_national_export=True,
    )  # fmt: skip


def test_keys_are_forgotten_14_days_after_their_validity(db: None) -> None:
    kept = _outbound(3)
    _outbound(17)
    pending = OutboundBatch.objects.create(batch_tag="IT-pending")
    waiting = _outbound(17, pending)
    fresh = _received(3)
    _received(16)
    report = apply_retention()
    assert set(OutboundKey.objects.values_list("id", flat=True)) == {kept.id, waiting.id}
    assert set(ReceivedKey.objects.values_list("id", flat=True)) == {fresh.id}
    assert report["outbound_keys_deleted"] == 1 and report["received_keys_deleted"] == 1


def test_the_newest_received_batch_survives_retention(db: None) -> None:
    batch = InboundBatch.objects.create(
        batch_tag="20200101-1", batch_date=datetime(2020, 1, 1, tzinfo=UTC).date(),
        status=InboundBatch.Status.ACCEPTED,
    )  # fmt: skip
    InboundBatch.objects.filter(pk=batch.pk).update(
        downloaded_at=datetime.now(UTC) - timedelta(days=400)
    )
    apply_retention()
    assert InboundBatch.objects.filter(pk=batch.pk).exists()


def test_tasks_do_nothing_while_federation_is_off(db: None, settings: Any) -> None:
    settings.FEDERATION_GATEWAY_URL = ""
    assert federation_tasks.upload_keys.delay().get() == "off"
    assert federation_tasks.download_keys.delay().get() == "off"
    assert FederationRun.objects.count() == 0


def test_tasks_run_the_federation(db: None, federation: GatewayHandle) -> None:
    assert federation_tasks.download_keys.delay(trigger="manual").get() == "succeeded"
    assert federation_tasks.upload_keys.delay().get() == "succeeded"
    assert sorted(FederationRun.objects.values_list("kind", "trigger")) == [
        ("download", "manual"), ("upload", "schedule"),
    ]  # fmt: skip
