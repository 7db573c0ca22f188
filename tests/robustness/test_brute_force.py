"""Guessing codes against the device API is bounded: per network, per day, and under the
national guard, whatever the addresses, the headers and the concurrency (docs/guessing.md has
the arithmetic these limits give). Time is frozen and moved, so hours of guessing run in
seconds; the live test fires concurrent guesses at a real gunicorn on Redis.
"""

from __future__ import annotations

import http.client
import json
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from authority.accounts.models import Role, User
from authority.formats.otp import otp_sha256_hex
from tests.ingestion.conftest import AppClient
from tests.ingestion.guessing.phones import (
    MORNING,
    guess_from,
    lookups_that_failed,
    on_network,
    phone,
)
from tests.robustness.live import LiveGunicorn, authorized_codes, request

BURST = 30


@pytest.fixture(autouse=True)
def behind_the_proxy(settings) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


@pytest.mark.django_db
def test_one_network_gets_its_burst_then_one_guess_per_refill_whatever_it_sends(regions):
    with time_machine.travel(MORNING, tick=False) as clock:
        lookups = 0
        for minute in range(120):
            # Three guesses a minute, from a fresh address of the /24 each, checks and
            # uploads mixed: the network's budget is the only limit that binds.
            for n in range(3 if minute else BURST + 3):
                client = on_network(0, minute * 40 + n)
                guess = client.check_otp if n % 2 else client.upload
                lookups += guess(None).status_code == 401
            clock.shift(timedelta(minutes=1))
    # The burst, then one every 5 minutes (at minutes 5, 10, ..., 115).
    assert lookups == lookups_that_failed() == BURST + 23


@pytest.mark.django_db
def test_a_network_guesses_at_most_its_burst_and_a_day_of_refills_in_a_utc_day(regions, settings):
    settings.GUESSING_NETWORK_REFILL_SECONDS = 3600  # one an hour, so that a day is 24 steps
    midnight = datetime(2026, 3, 2, 0, 0, 30, tzinfo=UTC)
    with time_machine.travel(midnight, tick=False) as clock:
        for hour in range(24):
            guess_from(0, BURST + 2 if hour == 0 else 3, first_host=hour * 40)
            clock.shift(timedelta(hours=1))
        # 00:00:30 the next day: the network's token changed, a new day's budget begins.
        assert guess_from(0, BURST + 1, first_host=100) == {401: BURST, 429: 1}
    # The bound of docs/guessing.md: the burst plus a day of refills (86400 / 3600), less the
    # one due at midnight, which belongs to the next day.
    assert lookups_that_failed() == (BURST + 23) + BURST


@pytest.mark.django_db
def test_rotating_ipv6_addresses_within_a_48_is_one_network(regions):
    with time_machine.travel(MORNING, tick=False):
        statuses = Counter(
            phone(f"2001:db8:7:{n:x}::{n:x}").check_otp(None).status_code for n in range(40)
        )
    assert statuses == {401: BURST, 429: 10}


@pytest.mark.django_db
def test_a_made_up_forwarded_for_entry_does_not_make_a_new_network(regions):
    with time_machine.travel(MORNING, tick=False):
        # The phone writes a fresh address into X-Forwarded-For every time; the proxy at
        # 192.0.2.10 appends the one it saw, always in 198.51.100.0/24.
        statuses = Counter(
            AppClient(
                Client(
                    REMOTE_ADDR="192.0.2.10",
                    HTTP_X_FORWARDED_FOR=f"10.0.{n}.1, 198.51.100.{n % 200 + 1}",
                )
            )
            .check_otp(None)
            .status_code
            for n in range(40)
        )
    assert statuses == {401: BURST, 429: 10}


@pytest.mark.django_db
def test_under_the_guard_many_networks_together_are_bounded_by_the_daily_cap(regions, settings):
    settings.GUESSING_GUARD_THRESHOLD = 50
    settings.GUESSING_GUARD_DAILY_CAP = 4
    networks = 60
    with time_machine.travel(MORNING, tick=False) as clock:
        for attempt in range(2):
            for network in range(networks):
                guess_from(network, 6, first_host=attempt * 10)
            clock.shift(timedelta(minutes=30))  # the guard holds an hour after the last surge
    # Networks 0-7 guessed 6 each before 50 failures switched the guard on (network 8 made
    # the 50th); from then on no network went past its 4 of the day, however often it tried.
    assert lookups_that_failed() == 8 * 6 + 4 + (networks - 9) * 4
    # The bound of docs/guessing.md for one guard episode: the threshold, plus every
    # network's daily cap.
    assert lookups_that_failed() <= 50 + networks * 4


@pytest.mark.django_db
def test_the_per_address_request_rate_still_bounds_requests(regions):
    # Dummy requests are no guesses: what stops them is the rate per address and endpoint.
    with time_machine.travel(MORNING, tick=False):
        same = phone("203.0.113.7")
        checks = Counter(same.check_otp(None, dummy=True).status_code for _ in range(40))
        uploads = Counter(same.upload(None, dummy=True).status_code for _ in range(40))
        assert checks == uploads == {204: 30, 429: 10}
        assert phone("203.0.113.8").check_otp(None, dummy=True).status_code == 204


# --- Concurrency, against a live gunicorn on Redis -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_guesses_from_one_network_get_exactly_its_burst(
    live_gunicorn: Callable[..., LiveGunicorn], lazio, settings
):
    gunicorn = live_gunicorn(TRUSTED_PROXY_COUNT="1", GUESSING_NETWORK_BURST=str(BURST))
    operator = User.objects.create(username="brute-operator", role=Role.OPERATOR, region=lazio)
    [code] = authorized_codes(1, operator, settings)
    statuses: list[int] = []
    lock = threading.Lock()

    def guesser(worker: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", gunicorn.port, timeout=60)
        for n in range(12):
            status, _ = request(
                gunicorn.port,
                "POST",
                "/v1/ingestion/check-otp",
                json.dumps({"padding": "00"}).encode(),
                {
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {secrets.token_hex(32)}",
                    "Immuni-Dummy-Data": "0",
                    # All from 100.64.9.0/24, each worker from its own addresses.
                    "X-Forwarded-For": f"100.64.9.{(worker * 12 + n) % 254 + 1}",
                },
                conn,
            )
            with lock:
                statuses.append(status)
        conn.close()

    threads = [threading.Thread(target=guesser, args=(worker,)) for worker in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 16 workers x 12 at once, served by 2 processes x 8 threads: still exactly the burst.
    assert Counter(statuses) == {401: BURST, 429: 16 * 12 - BURST}, gunicorn.log_tail()
    status, _ = request(
        gunicorn.port,
        "POST",
        "/v1/ingestion/check-otp",
        b"{}",
        {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {otp_sha256_hex(code)}",
            "Immuni-Dummy-Data": "0",
            "X-Forwarded-For": "198.51.100.1",
        },
    )
    assert status == 204  # a patient on another network
