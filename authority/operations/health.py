"""Health checks for load balancers: each dependency answers quickly or is reported down."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.core.files.storage import storages
from django.db import connection

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
