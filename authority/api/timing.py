"""Response times that say nothing about the request: real and dummy requests alike are held
until a delay drawn from one distribution has passed (Immuni did the same)."""

from __future__ import annotations

import random
import time

from django.conf import settings
from django.db import connections

_random = random.SystemRandom()


def draw_response_seconds() -> float:
    """Target duration: a floor above the real work's time, plus a random spread."""
    floor = settings.DEVICE_API_MIN_RESPONSE_MS / 1000
    spread = settings.DEVICE_API_RESPONSE_SPREAD_MS / 1000
    return floor + _random.uniform(0, spread)


def hold_until(started: float, target_seconds: float) -> None:
    remaining = target_seconds - (time.monotonic() - started)
    if remaining > 0:
        time.sleep(remaining)


def release_pooled_connections() -> None:
    """Give pooled database connections back before holding a response: otherwise every
    request waiting out its delay would keep one, and the pool would run dry under load.
    (Persistent, unpooled connections belong to their thread and stay.)"""
    for connection in connections.all(initialized_only=True):
        if (
            connection.settings_dict.get("OPTIONS", {}).get("pool")
            and not connection.in_atomic_block
        ):
            connection.close()
