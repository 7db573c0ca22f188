"""Request rates of the device API, per client (a keyed hash of its address, in the cache only
for the throttle window). They bound requests; guessing codes is bounded per network by
authority.ingestion.guessing."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache, caches
from django.utils import timezone
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from authority.ingestion.guessing.networks import address_network, client_address


def client_network(ident: str) -> str:
    """What one client is: its IPv4 address, or its IPv6 /64 network.

    One IPv6 subscriber usually holds a whole /64 and can pick a fresh address for every
    request, so a limit per IPv6 address would not limit anyone.
    """
    return address_network(ident, ipv4_prefix=32, ipv6_prefix=64)


def _client_token(ident: str) -> str:
    """A keyed, daily-rotating hash: the cache never holds a client address."""
    day = timezone.now().date().isoformat()
    key = f"{settings.SECRET_KEY}:throttle:{day}".encode()
    return hmac.new(key, client_network(ident).encode(), hashlib.sha256).hexdigest()[:32]


class ClientThrottle(SimpleRateThrottle):
    """Per-client rate of one endpoint; `scope` names the rate in DEVICE_API_RATES.

    Counted in fixed windows (calendar minutes for "30/minute"): one counter per client and
    window, incremented in one round trip to Redis, where DRF's sliding window reads and
    rewrites a pickled list of timestamps (two round trips, ~40% of a dummy upload's
    time). A client gets the rate per window; across a window's edge it can send twice the
    rate in a moment, never more than the rate on average.
    """

    scope: str
    # Parsed from the rate by SimpleRateThrottle.__init__ (the stubs do not declare them).
    num_requests: int
    duration: int

    def get_rate(self) -> str:
        return settings.DEVICE_API_RATES[self.scope]

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return f"throttle:{self.scope}:{_client_token(client_address(request))}"

    def allow_request(self, request: Request, view: APIView) -> bool:
        now = timezone.now().timestamp()
        window = int(now // self.duration)
        self.wait_seconds = self.duration - now % self.duration
        key = f"{self.get_cache_key(request, view)}:{window}"
        return count_in_window(key, self.duration) <= self.num_requests

    def wait(self) -> float:
        return self.wait_seconds


def count_in_window(key: str, window_seconds: int) -> int:
    """Add one to the counter `key`, created for two windows if missing; its new value."""
    backend = caches["default"]  # `cache` is a proxy: ask for the backend itself
    if isinstance(backend, RedisCache):
        stored_key = backend.make_and_validate_key(key)
        # django-redis's public way to its client (one per server, kept and reused).
        connection = get_redis_connection("default")
        # Sent together, answered together; no MULTI needed: SET NX only creates the counter
        # (with its expiry), INCR counts whoever created it.
        pipeline = connection.pipeline(transaction=False)
        pipeline.set(stored_key, 0, ex=2 * window_seconds, nx=True)
        pipeline.incr(stored_key)
        return int(pipeline.execute()[1])
    if cache.add(key, 1, timeout=2 * window_seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=2 * window_seconds)
        return 1


class CheckOtpThrottle(ClientThrottle):
    scope = "check-otp"


class UploadThrottle(ClientThrottle):
    scope = "upload"


class AnalyticsThrottle(ClientThrottle):
    scope = "analytics"
