"""Fixtures of the statistics tests: counters by hand, chart JSON as a client gets it, a Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.test import Client

from authority.statistics.models import DailyCounter
from authority.statistics.services import increment, local_day


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Charts, open data and the once-a-month tokens live in the cache: no test sees another's."""
    cache.clear()
    yield
    cache.clear()


def counter(metric: str, **key: object) -> int:
    return sum(DailyCounter.objects.filter(metric=metric, **key).values_list("value", flat=True))


@pytest.fixture
def count() -> Callable[..., None]:
    """Add to a counter as the services would: count("uploads", 3, region=lazio, day=...)."""

    def add(
        metric: str,
        amount: int = 1,
        *,
        region: Any = None,
        operator: Any = None,
        bucket: str = "",
        day: date | None = None,
    ) -> None:
        increment(
            metric,
            region_id=region.pk if region is not None else None,
            operator_id=operator.pk if operator is not None else None,
            bucket=bucket,
            amount=amount,
            day=day or local_day(),
        )

    return add


def chart(client: Client, slug: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/statistics/charts/{slug}/", params)
    assert response.status_code == 200, response.content
    return response.json()


def export(client: Client, slug: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/statistics/charts/{slug}/data.json", params)
    assert response.status_code == 200, response.content
    return response.json()


def rows_by(data: dict[str, Any], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in data["rows"]}


@pytest.fixture
def redis_buffer(settings) -> Iterator[redis.Redis]:
    """Buffered statistics on the Redis of TEST_REDIS_URL, under a prefix of this test only."""
    url = os.environ["TEST_REDIS_URL"]
    prefix = f"test-statistics:{uuid.uuid4().hex}"
    settings.STATISTICS_BUFFERED = True
    settings.STATISTICS_REDIS_URL = url
    settings.STATISTICS_REDIS_PREFIX = prefix
    client = redis.Redis.from_url(url)
    yield client
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
