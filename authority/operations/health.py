"""Health checks for load balancers: each dependency answers quickly or is reported down; and
warnings, which do not make the service unhealthy, about settings that lose data quietly."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.files.storage import storages
from django.db import connection
from django_redis.cache import RedisCache

from authority.operations.redis_clients import shared_client

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_cache() -> None:
    cache.set("health-probe", "ok", timeout=10)
    if cache.get("health-probe") != "ok":
        raise RuntimeError("the cache did not return what was stored")


def check_broker() -> None:
    from tasks.celery import app

    with app.connection_for_write() as connection_:
        connection_.ensure_connection(max_retries=1, timeout=2)


def check_storage() -> None:
    storages["batches"].exists("index.txt")


def check_signing_key() -> None:
    from authority.keys.selectors import active_signing_keys

    if not active_signing_keys():
        raise RuntimeError("no active signing key: publications cannot be signed")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "storage": check_storage,
    "signing_key": check_signing_key,
}


def run_checks() -> dict[str, str]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # a health check reports every failure, whatever it is
            logger.warning("Health check %s failed: %s", name, exc)
            results[name] = "down"
        else:
            results[name] = "ok"
    return results


def is_healthy(results: dict[str, str]) -> bool:
    return all(state == "ok" for state in results.values())


# --- Warnings ----------------------------------------------------------------------------------

# A Redis that may evict keys when its memory is full drops them without a word: guessing
# budgets and throttles (every key has an expiry, so even volatile-* policies take them), the
# buffered statistics, queued tasks. Managed services often default to volatile-lru.
SAFE_EVICTION_POLICY = "noeviction"
UNKNOWN = "unknown"  # the server refused CONFIG GET (managed services often disable it)
_reported: set[tuple[str, str]] = set()


def redis_servers() -> dict[str, str]:
    """What each Redis holds, by its URL: the cache, the buffered statistics, the broker."""
    servers: dict[str, str] = {}
    if isinstance(caches["default"], RedisCache):
        servers["cache"] = str(settings.CACHES["default"]["LOCATION"])
    if settings.STATISTICS_BUFFERED and settings.STATISTICS_REDIS_URL:
        servers["statistics"] = settings.STATISTICS_REDIS_URL
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://")):
        servers["broker"] = settings.CELERY_BROKER_URL
    return servers


def eviction_policy(url: str) -> str:
    """The server's maxmemory-policy, or UNKNOWN when it cannot be read."""
    try:
        answer = shared_client(url).config_get("maxmemory-policy")
    except redis.RedisError:
        return UNKNOWN
    policy = answer.get("maxmemory-policy", UNKNOWN)
    return policy.decode() if isinstance(policy, bytes) else str(policy)


def eviction_warnings() -> dict[str, str]:
    """{what the Redis holds: its policy} for each Redis that may evict keys, or whose policy
    is unknown. Logged once per process and policy (a load balancer asks every few seconds)."""
    policies: dict[str, str] = {}
    by_url: dict[str, str] = {}
    for role, url in redis_servers().items():
        if url not in by_url:
            by_url[url] = eviction_policy(url)
        if by_url[url] != SAFE_EVICTION_POLICY:
            policies[role] = by_url[url]
    for role, policy in policies.items():
        if (role, policy) not in _reported:
            _reported.add((role, policy))
            logger.warning(
                "The Redis of the %s has maxmemory-policy %s: under memory pressure it may "
                "drop keys without a word. Set maxmemory-policy noeviction (docs/upgrading.md).",
                role,
                policy,
            )
    return policies


def run_warnings() -> dict[str, dict[str, str]]:
    try:
        policies = eviction_warnings()
    except Exception as exc:  # a warning never takes the health check down
        logger.warning("Health warning check failed: %s", exc)
        return {}
    return {"redis_maxmemory_policy": policies} if policies else {}
