"""While the national ceiling on failed OTP checks holds, dummy requests are refused like real
ones (DESIGN.md 3.7): a 204 among 429s would tell an observer which requests are cover."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings

from authority.ingestion import metrics
from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from authority.statistics.models import DailyCounter
from tests.ingestion.test_dummy_traffic import wire

pytestmark = pytest.mark.django_db

CEILING = 3


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Frozen mid-minute: every request of a test falls in one failure window and is told
    the same Retry-After."""
    middle = datetime.now(UTC).replace(second=30, microsecond=0)
    with time_machine.travel(middle, tick=False) as coordinates:
        yield coordinates


@pytest.fixture
def ceiling_reached(app_client, clock) -> None:
    """This minute's failed checks, from guesses, are at the national ceiling."""
    with override_settings(DEVICE_API_FAILED_OTP_PER_MINUTE=CEILING):
        for _ in range(CEILING):
            assert app_client.check_otp(None).status_code == 401
        yield


def counters(metric: str) -> dict[str, int]:
    return dict(DailyCounter.objects.filter(metric=metric).values_list("bucket", "value"))


def test_at_the_ceiling_a_dummy_check_is_answered_like_a_real_one(
    app_client, authorized_otp, ceiling_reached
):
    real = app_client.check_otp(authorized_otp)
    dummy = app_client.check_otp(None, dummy=True)
    assert real.status_code == 429
    assert real.json()["error_code"] == 1004
    assert int(real["Retry-After"]) > 0
    assert wire(dummy) == wire(real)


def test_at_the_ceiling_a_dummy_upload_is_answered_like_a_real_one(
    app_client, authorized_otp, ceiling_reached
):
    real = app_client.upload(authorized_otp)
    dummy = app_client.upload(None, dummy=True)
    assert real.status_code == 429
    assert real.json()["error_code"] == 1004
    assert int(real["Retry-After"]) > 0
    assert wire(dummy) == wire(real)


def test_a_dummy_refused_at_the_ceiling_stores_nothing_and_counts_as_before(
    app_client, authorized_otp, ceiling_reached
):
    assert app_client.check_otp(authorized_otp, dummy=True).status_code == 429
    assert app_client.upload(authorized_otp, dummy=True).status_code == 429
    assert ExposureKey.objects.count() == 0
    assert Otp.objects.get().state == OtpState.PENDING
    assert counters(metrics.DUMMY_REQUESTS) == {metrics.CHECK_OTP: 1, metrics.UPLOAD: 1}
    # Only the guesses that reached the ceiling failed; a dummy is neither a failure nor
    # a refused request on the dashboard.
    assert counters(metrics.FAILED_OTP_CHECKS) == {metrics.CHECK_OTP: CEILING}
    assert counters(metrics.THROTTLED_REQUESTS) == {}


def test_once_the_minute_is_over_dummies_get_204_again(
    app_client, authorized_otp, ceiling_reached, clock
):
    assert app_client.check_otp(None, dummy=True).status_code == 429
    clock.shift(timedelta(minutes=1))
    real_check = app_client.check_otp(authorized_otp)
    dummy_check = app_client.check_otp(None, dummy=True)
    assert real_check.status_code == 204
    assert wire(dummy_check) == wire(real_check)
    real_upload = app_client.upload(authorized_otp)
    dummy_upload = app_client.upload(None, dummy=True)
    assert real_upload.status_code == 204
    assert wire(dummy_upload) == wire(real_upload)
