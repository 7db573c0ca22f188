"""/health warns about a Redis that may evict keys, and says "unknown" when the server will not
tell (review 12, finding 11: a volatile-lru Redis silently resets guessing budgets)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator

import pytest
import redis
from django.test import Client

from authority.keys.services.signing_keys import rotate_signing_key
from authority.operations import health

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture
def test_redis() -> Iterator[redis.Redis]:
    """The tests' Redis (a server of this run's own), its policy put back afterwards."""
    server = redis.Redis.from_url(os.environ["TEST_REDIS_URL"])
    policy = server.config_get("maxmemory-policy")["maxmemory-policy"]
    yield server
    server.config_set("maxmemory-policy", policy)


@pytest.fixture
def cache_on_redis(settings, test_redis) -> str:
    url = os.environ["TEST_REDIS_URL"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-health-{secrets.token_hex(4)}",
        }
    }
    settings.CELERY_BROKER_URL = "filesystem://"  # only the cache's Redis is looked at
    settings.STATISTICS_BUFFERED = False
    health._reported.clear()
    rotate_signing_key(actor=None)
    return url


def test_a_redis_that_evicts_is_a_warning_not_an_outage(cache_on_redis, test_redis, caplog):
    test_redis.config_set("maxmemory-policy", "volatile-lru")
    with caplog.at_level(logging.WARNING, logger="authority.operations.health"):
        first = Client().get("/health")
        Client().get("/health")

    assert first.status_code == 200
    assert first.json()["status"] == "ok"
    assert first.json()["warnings"] == {"redis_maxmemory_policy": {"cache": "volatile-lru"}}
    [logged] = [r.getMessage() for r in caplog.records if r.name == "authority.operations.health"]
    assert "The Redis of the cache has maxmemory-policy volatile-lru" in logged
    assert "127.0.0.1" not in logged and cache_on_redis not in logged


def test_noeviction_gives_no_warning(cache_on_redis, test_redis):
    test_redis.config_set("maxmemory-policy", "noeviction")
    answer = Client().get("/health")
    assert answer.status_code == 200 and answer.json()["warnings"] == {}


def test_a_server_that_refuses_config_is_unknown(settings, cache_on_redis, test_redis):
    """A managed Redis that disables CONFIG: an account without it, on the same server."""
    user, password = f"health-{secrets.token_hex(4)}", secrets.token_hex(16)
    test_redis.acl_setuser(
        user, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all", "-config"]
    )
    try:
        host, port_db = cache_on_redis.removeprefix("redis://").split(":", 1)
        settings.CACHES = {
            "default": {
                **settings.CACHES["default"],
                "LOCATION": f"redis://{user}:{password}@{host}:{port_db}",
            }
        }
        answer = Client().get("/health")
    finally:
        test_redis.acl_deluser(user)

    assert answer.status_code == 200
    assert answer.json()["checks"]["cache"] == "ok"
    assert answer.json()["warnings"] == {"redis_maxmemory_policy": {"cache": "unknown"}}
    assert password not in answer.content.decode()


def test_every_redis_is_named_once_per_server(settings, cache_on_redis, test_redis):
    settings.STATISTICS_BUFFERED = True
    settings.STATISTICS_REDIS_URL = cache_on_redis
    settings.CELERY_BROKER_URL = cache_on_redis
    test_redis.config_set("maxmemory-policy", "allkeys-lru")
    assert health.eviction_warnings() == {
        "cache": "allkeys-lru",
        "statistics": "allkeys-lru",
        "broker": "allkeys-lru",
    }


def test_without_redis_nothing_to_warn_about(settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.STATISTICS_BUFFERED = False
    assert health.eviction_warnings() == {}  # the tests' memory cache
