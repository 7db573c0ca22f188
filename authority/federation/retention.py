"""Retention of the federation's rows: keys 14 days after their validity (DESIGN.md 3.8), records after a while."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authority.federation.models import (
    FederationRun,
    InboundBatch,
    OutboundBatch,
    OutboundKey,
    ReceivedKey,
)

# Run and batch records (figures only, no key) stay this long for the operators' page.
RECORD_DAYS = 90


def apply_retention() -> dict[str, int]:
    now = timezone.now()
    expired_interval = int((now - timedelta(days=settings.KEYS_RETENTION_DAYS)).timestamp()) // 600
    with transaction.atomic():
        # A key waiting in a batch whose answer is unknown stays until that answer is known:
        # deleting it would leave the batch unverifiable, never more than that.
        outbound, _ = (
            OutboundKey.objects.filter(rolling_start_interval_number__lt=expired_interval - 144)
            .exclude(batch__status=OutboundBatch.Status.PENDING)
            .delete()
        )
        # Their publication claims (keys.ClaimedReceivedKey) go with them.
        _total, deleted = ReceivedKey.objects.filter(
            rolling_end_interval_number__lt=expired_interval
        ).delete()
        received = deleted.get(ReceivedKey._meta.label, 0)
        old = now - timedelta(days=RECORD_DAYS)
        # The newest received batch is where downloads resume: never delete it.
        newest = InboundBatch.objects.order_by("-id").values_list("id", flat=True).first()
        inbound, _ = (
            InboundBatch.objects.filter(downloaded_at__lt=old).exclude(id=newest or 0).delete()
        )
        sent, _ = (
            OutboundBatch.objects.filter(created_at__lt=old, keys__isnull=True)
            .exclude(status=OutboundBatch.Status.PENDING)
            .delete()
        )
        runs, _ = FederationRun.objects.filter(started_at__lt=old).delete()
    return {
        "outbound_keys_deleted": outbound,
        "received_keys_deleted": received,
        "records_deleted": inbound + sent + runs,
    }
