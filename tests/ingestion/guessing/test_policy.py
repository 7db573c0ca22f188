"""One network's budget of failed code lookups: its burst, its refill, what a valid code gives
back, and which addresses make one network (docs/guessing.md)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from authority.formats.otp import generate_otp
from authority.otps.services import authorize_otp
from tests.ingestion.conftest import AppClient
from tests.ingestion.guessing.phones import (
    authorized_code,
    guess_from,
    lookups_that_failed,
    on_network,
    phone,
)

pytestmark = pytest.mark.django_db

BURST = 30  # GUESSING_NETWORK_BURST
REFILL = 300  # GUESSING_NETWORK_REFILL_SECONDS


def test_the_defaults_are_the_ones_docs_guessing_md_computes_with(settings):
    assert settings.GUESSING_NETWORK_BURST == BURST
    assert settings.GUESSING_NETWORK_REFILL_SECONDS == REFILL
    assert settings.GUESSING_IPV4_PREFIX == 24
    assert settings.GUESSING_IPV6_PREFIX == 48
    assert settings.GUESSING_GUARD_THRESHOLD == 500
    assert settings.GUESSING_GUARD_HOLD_MINUTES == 60
    assert settings.GUESSING_GUARD_DAILY_CAP == 20
    assert settings.OTP_QUOTA_PER_REGION_PER_DAY == 2000
    assert settings.OTP_ISSUED_TTL_HOURS == 24


def test_a_network_over_its_budget_gets_429_with_the_error_body_and_retry_after(
    regions, any_cache, clock
):
    assert guess_from(0, BURST) == {401: BURST}
    refused = on_network(0, 200).check_otp(None)
    assert refused.status_code == 429
    assert refused.json() == {
        "error_code": 1004,
        "message": "Request was throttled. Expected available in 300 seconds.",
    }
    assert refused["Retry-After"] == "300"
    # The upload names a code too: it draws on the same budget.
    assert on_network(0, 201).upload(None).status_code == 429
    assert lookups_that_failed() == BURST


def test_after_the_burst_the_network_gets_one_lookup_per_refill_interval(regions, any_cache, clock):
    assert guess_from(0, BURST + 5) == {401: BURST, 429: 5}
    clock.shift(timedelta(seconds=REFILL - 1))
    assert on_network(0, 1).check_otp(None)["Retry-After"] == "1"
    clock.shift(timedelta(seconds=1))
    assert guess_from(0, 3, first_host=2) == {401: 1, 429: 2}
    clock.shift(timedelta(hours=1))
    assert guess_from(0, 20, first_host=5) == {401: 12, 429: 8}
    assert lookups_that_failed() == BURST + 1 + 12


def test_a_valid_code_costs_its_network_nothing(regions, operator, any_cache, clock):
    code = authorized_code(operator)
    assert guess_from(0, BURST - 1) == {401: BURST - 1}
    assert on_network(0, 100).check_otp(code).status_code == 204
    assert on_network(0, 101).upload(code).status_code == 204
    # A valid code costs its network nothing: the budget is where it was.
    assert guess_from(0, 2, first_host=102) == {401: 1, 429: 1}


def test_a_patient_who_asks_before_the_code_is_authorized_gets_those_failures_back(
    regions, operator, any_cache, clock
):
    patient = on_network(0, 7)
    code = generate_otp()  # shown by the patient's app, not yet typed in by the operator
    for _ in range(3):
        assert patient.check_otp(code).status_code == 401
    authorize_otp(code=code, onset_date=timezone.localdate(), operator=operator)
    assert patient.check_otp(code).status_code == 204
    assert patient.upload(code).status_code == 204
    # The three early failures were given back: the network still has its whole burst.
    assert guess_from(0, BURST + 1, first_host=10) == {401: BURST, 429: 1}


def test_a_code_that_stays_unknown_costs_every_time_it_is_tried(regions, any_cache, clock):
    # Trying one guess again costs again: a later retry is a new chance that it became valid.
    statuses = Counter(
        on_network(0, n).check_otp("KJ23IWY5UJ").status_code for n in range(BURST + 1)
    )
    assert statuses == {401: BURST, 429: 1}


def test_addresses_of_one_ipv4_24_share_a_budget_and_the_next_24_does_not(
    regions, any_cache, clock
):
    statuses = Counter(phone(f"203.0.113.{n}").check_otp(None).status_code for n in range(1, 41))
    assert statuses == {401: BURST, 429: 10}
    assert phone("203.0.112.255").check_otp(None).status_code == 401
    assert phone("203.0.114.1").check_otp(None).status_code == 401
    # An IPv4-mapped IPv6 address is its IPv4 client.
    assert phone("::ffff:203.0.113.77").check_otp(None).status_code == 429


def test_ipv6_addresses_of_one_48_share_a_budget_and_the_next_48_does_not(
    regions, any_cache, clock
):
    # One site holds a /48: 65,536 subnets of 2^64 addresses each, all one network here.
    statuses = Counter(
        phone(f"2001:db8:1:{n:x}:{n:x}::{n:x}").check_otp(None).status_code
        for n in range(0, 40 * 1000, 1000)
    )
    assert statuses == {401: BURST, 429: 10}
    assert phone("2001:db8:1:ffff:ffff:ffff:ffff:ffff").check_otp(None).status_code == 429
    assert phone("2001:db8:2::1").check_otp(None).status_code == 401
    assert phone("2001:db8::1").check_otp(None).status_code == 401


def test_the_prefixes_are_settings(regions, settings, any_cache, clock):
    settings.GUESSING_IPV6_PREFIX = 56
    assert Counter(
        phone(f"2001:db8:1:{n:x}::1").check_otp(None).status_code for n in range(BURST + 1)
    ) == {401: BURST, 429: 1}
    assert phone("2001:db8:1:100::1").check_otp(None).status_code == 401  # the next /56


def test_without_a_proxy_setting_the_forwarded_for_header_is_ignored(regions, settings, clock):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    # Every request claims another network; the connections all come from one /24.
    statuses = Counter(
        AppClient(Client(REMOTE_ADDR=f"198.51.100.{n}", HTTP_X_FORWARDED_FOR=f"10.{n}.0.1"))
        .check_otp(None)
        .status_code
        for n in range(1, BURST + 2)
    )
    assert statuses == {401: BURST, 429: 1}
