"""Guessing attacks from many networks leave patients on other networks untouched (issue 12).

Until this change, ten addresses failing 600 checks a minute nationally made every patient's
valid code wait for the next minute. Now each network pays for its own failures.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ingestion.guessing.phones import (
    authorized_code,
    guess_from,
    lookups_that_failed,
    on_network,
    phone,
)

pytestmark = pytest.mark.django_db

BURST = 30


def test_ten_networks_guessing_at_their_limits_leave_a_clean_clients_code_working(
    regions, operator, any_cache, clock
):
    attackers = range(1, 11)
    for minute in range(16):
        for network in attackers:
            # Beyond the budget: 32 guesses in the first minute, then one every minute, each
            # from the next address of the /24 (the per-address request rate never binds).
            statuses = guess_from(network, 32 if minute == 0 else 1, first_host=minute + 32)
            expected_lookups = BURST if minute == 0 else (1 if minute % 5 == 0 else 0)
            assert statuses[401] == expected_lookups, (minute, network, statuses)
        if minute in (0, 7, 15):
            # A patient on another network, while the attack goes on.
            code = authorized_code(operator)
            patient = phone(f"198.51.100.{minute + 1}")
            assert patient.check_otp(code).status_code == 204
            assert patient.upload(code).status_code == 204
        clock.shift(timedelta(minutes=1))
    # Each network got its burst, then one lookup every five minutes.
    assert lookups_that_failed() == 10 * (BURST + 3)


def test_a_guessing_attack_from_many_networks_trips_the_guard_and_caps_the_networks_that_failed(
    regions, operator, settings, any_cache, clock
):
    settings.GUESSING_GUARD_THRESHOLD = 40
    settings.GUESSING_GUARD_DAILY_CAP = 3
    # 20 networks guess: 40 failures nationally switch the guard on.
    assert sum(guess_from(network, 2)[401] for network in range(20)) == 40
    # From then on a network that failed 3 lookups today is refused: one more each.
    assert sum(guess_from(network, 4, first_host=2)[401] for network in range(20)) == 20
    refused = on_network(0, 100).check_otp(None)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(60 * 60)  # until the guard ends
    # Networks that have not been guessing are not affected: their lookups go ahead.
    assert guess_from(1000, 3) == {401: 3}
    assert guess_from(1000, 1, first_host=3) == {429: 1}
    code = authorized_code(operator)
    patient = phone("198.51.100.1")
    assert patient.check_otp(code).status_code == 204
    assert patient.upload(code).status_code == 204
    assert lookups_that_failed() == 40 + 20 + 3


def test_the_guard_ends_an_hour_after_the_failures_stop(
    regions, operator, settings, any_cache, clock
):
    settings.GUESSING_GUARD_THRESHOLD = 20
    settings.GUESSING_GUARD_DAILY_CAP = 5
    for network in range(4):
        assert guess_from(network, 5) == {401: 5}
    # 20 failures: the guard is on, and each of these networks is at its daily cap.
    for network in range(4):
        assert guess_from(network, 1, first_host=5) == {429: 1}
    clock.shift(timedelta(minutes=59))
    assert on_network(0, 10).check_otp(None)["Retry-After"] == "60"
    clock.shift(timedelta(minutes=1))
    # The guard is off: the network is back to its own bucket.
    assert guess_from(0, 10, first_host=20) == {401: 10}
