"""The whole flow, then every table: nothing is left but counters and the rows the product
needs (codes within their grace period, keys, batches, staff, audit) — DESIGN.md 3."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from authority.keys.models import Batch, ExposureKey
from authority.otps.models import Otp, OtpState
from authority.statistics.models import DailyCounter
from tasks.otps import expire_and_purge_codes

pytestmark = pytest.mark.django_db

# Rows the product needs, by table; anything else must stay empty.
NEEDED = {
    "auth.Permission",  # Django's own catalogue
    "contenttypes.ContentType",
    "accounts.Region",
    "accounts.Province",
    "accounts.User",
    "audit.AuditEntry",
    "audit.AuditChainHead",
    "statistics.DailyCounter",
    "keys.ExposureKey",
    "keys.ClaimedKey",  # which batch a key went to (a batch is public once published)
    "keys.SigningKey",
    "keys.PublicationRun",
    "keys.Batch",
    "keys.PublicationLock",
    "otps.Otp",  # only within the grace period, checked below
    "appconfig.SettingsVersion",  # the apps' settings (a data migration publishes version 1)
    "appconfig.SettingsGeneration",
}


def tables_with_rows() -> set[str]:
    return {model._meta.label for model in apps.get_models() if model._default_manager.exists()}


def everything_stored() -> str:
    return "\n".join(
        repr(row) for model in apps.get_models() for row in model._default_manager.values()
    )


def test_after_the_whole_flow_only_aggregates_and_needed_rows_remain(scenario):
    assert tables_with_rows() <= NEEDED, tables_with_rows() - NEEDED

    # Statistics: counters only, and every one of them is a day's aggregate.
    assert DailyCounter.objects.filter(metric="uploads").count() == 2  # Lazio, Lombardia
    assert not apps.get_model("statistics", "AppliedFlush").objects.exists()

    # Keys: no trace of which upload they came from, one row per key.
    assert ExposureKey.objects.count() == 14 + 5
    fields = {field.name for field in ExposureKey._meta.get_fields()}
    assert not fields & {"upload", "upload_id", "uploaded_at", "created_at", "device", "otp"}
    assert Batch.objects.filter(status=Batch.Status.PUBLISHED).count() == 1

    # Codes: only their keyed hash, and only while their grace period lasts.
    grace = timedelta(hours=settings.OTP_RECORD_GRACE_HOURS)
    now = timezone.now()
    assert Otp.objects.count() == 6
    assert not Otp.objects.filter(~Q(state=OtpState.PENDING), closed_at__lt=now - grace).exists()

    # Nothing stored anywhere holds a code in clear, the app's salt, or a client address.
    stored = everything_stored()
    for secret in scenario.secrets:
        assert secret not in stored
    assert "127.0.0.1" not in stored


def test_once_the_grace_periods_end_the_codes_are_gone_and_the_counts_remain(scenario):
    later = timezone.now() + timedelta(hours=settings.OTP_ISSUED_TTL_HOURS + 1)
    import time_machine

    with time_machine.travel(later, tick=False):
        expire_and_purge_codes.delay().get()  # the last pending code expires...
    with time_machine.travel(later + timedelta(hours=settings.OTP_RECORD_GRACE_HOURS + 1)):
        expire_and_purge_codes.delay().get()  # ...and its grace ends
    assert not Otp.objects.exists()
    assert "otps.Otp" not in tables_with_rows()
    assert (
        sum(
            DailyCounter.objects.filter(metric__in=["otp_issued", "otp_authorized"]).values_list(
                "value", flat=True
            )
        )
        == 6
    )
