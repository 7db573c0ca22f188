"""The guessing state holds no address, no network and no code (DESIGN.md 3.1, 3.3): only keyed
hashes under a key that changes every day, in the cache, for the day."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.core.cache import caches

from authority.formats.otp import generate_otp, otp_sha256_hex
from tests.ingestion.guessing.phones import authorized_code, guess_from, phone

pytestmark = pytest.mark.django_db

ADDRESSES = ["203.0.113.7", "203.0.113.99", "2001:db8:1:2::5", "::ffff:198.51.100.4"]
# What would give a client away: its address, its network, in any spelling.
REVEALING = [
    *ADDRESSES,
    "203.0.113",
    "2001:db8:1",
    "198.51.100",
    "2001:0db8",
    "cb007100",  # 203.0.113.0 in hex
    "20010db8",
]


def cache_as_text(any_cache: str) -> str:
    """Every key and value of the cache, readably."""
    if any_cache == "memory":
        backend = caches["default"]
        return "\n".join(
            f"{key} {pickle.loads(value)!r}"
            for key, value in backend._cache.items()  # type: ignore[attr-defined]  # LocMemCache's own store: Django lists no cache's keys
        )
    server = redis.Redis.from_url(os.environ["TEST_REDIS_URL"], decode_responses=True)
    prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
    lines = []
    for key in server.scan_iter(f"{prefix}:*"):
        kind = server.type(key)
        if kind == "hash":
            value: object = server.hgetall(key)
        elif kind == "zset":
            value = server.zrange(key, 0, -1, withscores=True)
        else:
            value = server.get(key) if kind == "string" else kind
        lines.append(f"{key} {value!r}")
    return "\n".join(lines)


def test_no_address_network_or_code_is_in_the_cache(regions, operator, any_cache, clock, settings):
    # Within every budget, in frozen time: 203.0.113.0/24 fails 20 lookups of its 30, its first
    # address sends 11 requests of 30 a minute. So the valid code is looked up and answered,
    # and its network gets its failures back: refunds are in the state too.
    settings.GUESSING_NETWORK_BURST = 30
    settings.DEVICE_API_RATES = {**settings.DEVICE_API_RATES, "check-otp": "30/minute"}
    guessed = [generate_otp() for _ in range(40)]
    for n, code in enumerate(guessed):
        phone(ADDRESSES[n % len(ADDRESSES)]).check_otp(code)
    valid = authorized_code(operator)
    assert phone(ADDRESSES[0]).check_otp(valid).status_code == 204
    assert phone(ADDRESSES[2]).check_otp(valid).status_code == 204
    text = cache_as_text(any_cache)
    assert "guessing:network:" in text  # the state is there...
    for revealing in REVEALING:
        assert revealing.lower() not in text.lower(), revealing  # ...and says nothing of whom
    for code in [*guessed, valid]:
        assert code not in text
        assert otp_sha256_hex(code) not in text.lower()


def test_a_network_is_a_stranger_to_itself_the_next_day(regions, any_cache):
    def network_keys(text: str) -> set[str]:
        return {
            line.split()[0].rsplit(":", 1)[-1]
            for line in text.splitlines()
            if "guessing:network:" in line
        }

    with time_machine.travel(datetime(2026, 3, 2, 23, 50, tzinfo=UTC), tick=False) as clock:
        assert guess_from(0, 31) == {401: 30, 429: 1}
        yesterday = network_keys(cache_as_text(any_cache))
        assert len(yesterday) == 1
        clock.shift(timedelta(minutes=11))  # 00:01 UTC: the network's token changed
        assert guess_from(0, 31, first_host=31) == {401: 30, 429: 1}
        today = network_keys(cache_as_text(any_cache)) - yesterday
        assert len(today) == 1
