"""Two workers claiming keys at once on PostgreSQL: every key lands in exactly one batch."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection

from authority.federation import configuration
from authority.federation.models import OutboundBatch, OutboundKey
from authority.federation.upload import claim_due_keys
from tests.federation.conftest import GatewayHandle
from tests.federation.test_upload import _offer


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_put_a_key_in_two_batches(
    federation: GatewayHandle, settings: Any
) -> None:
    settings.FEDERATION_UPLOAD_MAX_KEYS = 50
    _offer(400)
    loaded = configuration.load()
    barrier = threading.Barrier(3)
    claimed: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            claimed.append(claim_due_keys(federation=loaded, run=None, now=datetime.now(UTC)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(claimed) == 400
    assert OutboundKey.objects.filter(batch__isnull=True).count() == 0
    counts = {batch.pk: batch.key_count for batch in OutboundBatch.objects.all()}
    for batch_id, count in counts.items():
        assert OutboundKey.objects.filter(batch_id=batch_id).count() == count
    assert sum(counts.values()) == 400
