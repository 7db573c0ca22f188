"""Guessing codes against the device API is throttled per client and for the whole internet.

The figures these limits give (guesses per hour against 25^9 codes) are in
benchmarks/README.md, "Brute force". Time is frozen and moved by whole minutes, so the tests
run the attack for several simulated minutes in a fraction of a second.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from authority.formats.otp import otp_sha256_hex
from authority.statistics.models import DailyCounter

pytestmark = pytest.mark.django_db

CHECK_OTP = "/v1/ingestion/check-otp"
UPLOAD = "/v1/ingestion/upload"


def start_of_a_minute() -> datetime:
    """A whole minute (plus 5 s) not after now, so that codes authorized now are still valid,
    and an hour earlier near midnight UTC, so that the simulated minutes stay on one day (the
    per-client throttle key rotates daily)."""
    now = datetime.now(UTC).replace(second=5, microsecond=0) - timedelta(minutes=1)
    return now - timedelta(hours=1) if now.hour == 23 else now


# A well-formed upload without keys: the server looks the code up, as for a check.
UPLOAD_BODY = {"province": "RM", "teks": [], "exposure_detection_summaries": []}


def guess(path: str, address: str, bearer: str | None = None) -> int:
    body = UPLOAD_BODY if path == UPLOAD else {"padding": "00"}
    response = Client(REMOTE_ADDR=address).post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bearer or secrets.token_hex(32)}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_IMMUNI_CLIENT_CLOCK="1772442000",
    )
    if response.status_code == 429:
        assert response.json()["error_code"] == 1004
        assert int(response["Retry-After"]) > 0
    return response.status_code


def guesses_evaluated() -> int:
    """Failed checks the server actually looked up (each one is a guess that was tried)."""
    return sum(
        DailyCounter.objects.filter(metric="failed_otp_checks").values_list("value", flat=True)
    )


def test_one_client_gets_at_most_its_rate_per_endpoint_per_minute(settings, regions):
    assert settings.DEVICE_API_RATES["check-otp"] == "30/minute"  # the defaults are what is shown
    assert settings.DEVICE_API_RATES["upload"] == "30/minute"
    minutes = 3
    with time_machine.travel(start_of_a_minute(), tick=False) as clock:
        for _minute in range(minutes):
            statuses = Counter(guess(CHECK_OTP, "203.0.113.7") for _ in range(80))
            statuses += Counter(guess(UPLOAD, "203.0.113.7") for _ in range(80))
            assert statuses == {401: 60, 429: 100}, statuses  # 30 per endpoint
            # Another phone in the same minute is not slowed down by this client.
            assert guess(CHECK_OTP, "198.51.100.20") == 401
            clock.shift(timedelta(minutes=1))
    assert guesses_evaluated() == minutes * (60 + 1)


@pytest.mark.redis
def test_on_redis_each_client_gets_its_rate_per_minute_too(regions, settings):
    # Production's cache: the counters live in Redis, one round trip per request.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["TEST_REDIS_URL"],
            "KEY_PREFIX": f"test-throttle-{secrets.token_hex(4)}",
        }
    }
    with time_machine.travel(start_of_a_minute(), tick=False) as clock:
        for _minute in range(2):
            statuses = Counter(guess(CHECK_OTP, "203.0.113.7") for _ in range(35))
            assert statuses == {401: 30, 429: 5}, statuses
            assert guess(CHECK_OTP, "198.51.100.20") == 401
            clock.shift(timedelta(minutes=1))
    assert guesses_evaluated() == 2 * 31


def test_a_client_rotating_ipv6_addresses_within_its_network_is_still_one_client(regions):
    # A subscriber's /64 holds 2^64 addresses: one per guess would otherwise be free.
    with time_machine.travel(start_of_a_minute(), tick=False):
        statuses = Counter(guess(CHECK_OTP, f"2001:db8:1:2:{n:x}:{n:x}:{n:x}:1") for n in range(40))
        assert statuses == {401: 30, 429: 10}, statuses
        # The neighbouring /64 is someone else; an IPv4-mapped address is its IPv4 client.
        assert guess(CHECK_OTP, "2001:db8:1:3::1") == 401
        assert Counter(guess(CHECK_OTP, "::ffff:203.0.113.9") for _ in range(30)) == {401: 30}
        assert guess(CHECK_OTP, "203.0.113.9") == 429


def forged(address: str, forwarded_for: str) -> int:
    response = Client(REMOTE_ADDR=address).post(
        CHECK_OTP,
        data=json.dumps({"padding": "00"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secrets.token_hex(32)}",
        HTTP_IMMUNI_DUMMY_DATA="0",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )
    return response.status_code


def test_a_made_up_forwarded_for_header_does_not_make_a_new_client(regions):
    with time_machine.travel(start_of_a_minute(), tick=False):
        statuses = Counter(forged("203.0.113.7", f"10.0.0.{n}") for n in range(40))
    assert statuses == {401: 30, 429: 10}, statuses


def test_behind_a_proxy_the_client_is_the_address_the_proxy_appended(regions, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with time_machine.travel(start_of_a_minute(), tick=False):
        # The phone made up the first entry; the proxy (at 192.0.2.10) appended the real one.
        statuses = Counter(forged("192.0.2.10", f"10.0.0.{n}, 198.51.100.4") for n in range(40))
        assert statuses == {401: 30, 429: 10}, statuses
        assert forged("192.0.2.10", "198.51.100.5") == 401  # another phone, same proxy


def test_the_whole_internet_gets_at_most_the_national_ceiling_per_minute(
    settings, regions, authorized_otp
):
    settings.DEVICE_API_FAILED_OTP_PER_MINUTE = 25
    minutes = 3
    with time_machine.travel(start_of_a_minute(), tick=False) as clock:
        for minute in range(minutes):
            # 200 addresses, one guess each: every client is far below its own rate.
            statuses = Counter(
                guess(CHECK_OTP, f"10.{minute}.{n // 250}.{n % 250}") for n in range(200)
            )
            assert statuses == {401: 25, 429: 175}, statuses
            # Past the ceiling every check waits for the next minute, the genuine one too:
            # guessing can delay patients by at most a minute, it cannot get further.
            assert guess(CHECK_OTP, "192.0.2.1", otp_sha256_hex(authorized_otp)) == 429
            clock.shift(timedelta(minutes=1))
        assert guess(CHECK_OTP, "192.0.2.1", otp_sha256_hex(authorized_otp)) == 204
    assert guesses_evaluated() == minutes * 25


def test_uploads_share_the_national_ceiling_with_checks(settings, regions):
    settings.DEVICE_API_FAILED_OTP_PER_MINUTE = 10
    with time_machine.travel(start_of_a_minute(), tick=False):
        for n in range(10):
            assert guess(CHECK_OTP, f"10.1.1.{n}") == 401
        assert guess(UPLOAD, "10.2.2.2") == 429
    assert guesses_evaluated() == 10
