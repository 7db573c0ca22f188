"""Dummy requests get exactly what real ones from their network get, whether it is clean, slowed
or refused (DESIGN.md 3.7): a 204 among 429s would tell an observer which requests are cover.
A dummy is answered from its network's state and changes nothing in it."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.test import override_settings

from authority.ingestion import metrics
from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from authority.statistics.models import DailyCounter
from tests.ingestion.guessing.phones import authorized_code, guess_from, on_network
from tests.ingestion.test_dummy_traffic import wire

pytestmark = pytest.mark.django_db

BURST = 30
STATES = ["clean", "slowed", "refused"]


def put_network_in(state: str, settings) -> None:
    """Network 0 clean, slowed (its burst used up) or refused (at its cap under the guard)."""
    if state == "slowed":
        assert guess_from(0, BURST) == {401: BURST}
    elif state == "refused":
        settings.GUESSING_GUARD_THRESHOLD = 3
        settings.GUESSING_GUARD_DAILY_CAP = 3
        assert guess_from(0, 3) == {401: 3}


@pytest.mark.parametrize("state", STATES)
def test_a_dummy_check_is_answered_like_a_real_one(
    state, regions, operator, settings, any_cache, clock
):
    code = authorized_code(operator)
    put_network_in(state, settings)
    real = on_network(0, 100).check_otp(code)
    dummy = on_network(0, 101).check_otp(None, dummy=True)
    assert real.status_code == (204 if state == "clean" else 429)
    assert wire(dummy) == wire(real)
    if state != "clean":
        assert real.json()["error_code"] == 1004
        assert int(real["Retry-After"]) == (300 if state == "slowed" else 3600)


@pytest.mark.parametrize("state", STATES)
def test_a_dummy_upload_is_answered_like_a_real_one(
    state, regions, operator, settings, any_cache, clock
):
    code = authorized_code(operator)
    put_network_in(state, settings)
    real = on_network(0, 100).upload(code)
    dummy = on_network(0, 101).upload(None, dummy=True)
    assert real.status_code == (204 if state == "clean" else 429)
    assert wire(dummy) == wire(real)


@pytest.mark.parametrize("state", STATES)
def test_a_dummy_with_an_unknown_code_is_answered_like_a_real_guess(
    state, regions, settings, any_cache, clock
):
    put_network_in(state, settings)
    # A real guess is looked up and fails (401) unless its network is held; a dummy is never
    # looked up, so where the real one is answered 401 there is no wire to compare.
    real = on_network(0, 100).check_otp(None)
    dummy = on_network(0, 101).check_otp(None, dummy=True)
    if state == "clean":
        assert (real.status_code, dummy.status_code) == (401, 204)
    else:
        assert wire(dummy) == wire(real)


def test_dummies_cost_their_network_nothing(regions, any_cache, clock):
    statuses = Counter(on_network(0, n).check_otp(None, dummy=True).status_code for n in range(40))
    statuses += Counter(on_network(0, n).upload(None, dummy=True).status_code for n in range(40))
    assert statuses == {204: 80}
    assert guess_from(0, BURST + 1) == {401: BURST, 429: 1}


def test_a_dummy_refused_with_its_network_stores_nothing_and_counts_as_a_dummy(
    regions, operator, settings, any_cache, clock
):
    code = authorized_code(operator)
    put_network_in("slowed", settings)
    assert on_network(0, 100).check_otp(code, dummy=True).status_code == 429
    assert on_network(0, 101).upload(code, dummy=True).status_code == 429
    assert ExposureKey.objects.count() == 0
    assert Otp.objects.get().state == OtpState.PENDING
    counted = dict(
        DailyCounter.objects.filter(metric=metrics.DUMMY_REQUESTS).values_list("bucket", "value")
    )
    assert counted == {metrics.CHECK_OTP: 1, metrics.UPLOAD: 1}
    # Neither a failure nor a refused request on the dashboard.
    assert not DailyCounter.objects.filter(metric=metrics.THROTTLED_REQUESTS).exists()
    # Nor do they delay the network's next lookup.
    clock.shift(timedelta(seconds=300))
    assert guess_from(0, 2, first_host=50) == {401: 1, 429: 1}


@override_settings(DEVICE_API_MIN_RESPONSE_MS=120, DEVICE_API_RESPONSE_SPREAD_MS=0)
def test_refused_real_and_dummy_requests_wait_for_the_same_floor(regions):
    with override_settings(DEVICE_API_MIN_RESPONSE_MS=0):
        assert guess_from(0, BURST) == {401: BURST}
    for dummy in (True, False):
        started = time.monotonic()
        assert on_network(0, 100).check_otp(None, dummy=dummy).status_code == 429
        assert time.monotonic() - started >= 0.12
