"""Every guessing test runs behind the trusted proxy, in frozen time, on either cache."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import time_machine

from tests.ingestion.guessing.phones import MORNING


@pytest.fixture(autouse=True)
def behind_the_proxy(settings) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(MORNING, tick=False) as coordinates:
        yield coordinates


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def any_cache(request, settings) -> Iterator[str]:
    """The tests' memory cache (the Python ledger) and production's Redis (the Lua scripts)."""
    if request.param == "memory":
        yield "memory"
        return
    import redis

    prefix = f"test-guessing-{secrets.token_hex(4)}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["TEST_REDIS_URL"],
            "KEY_PREFIX": prefix,
        }
    }
    yield "redis"
    server = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)
