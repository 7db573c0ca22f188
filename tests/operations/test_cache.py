"""The production cache: Django's Redis cache, reusing its client (throttles call it twice a request)."""

from __future__ import annotations

import os
import uuid

import pytest

from authority.operations.cache import ReusingRedisCache


@pytest.mark.redis
def test_the_production_cache_works_as_djangos_through_one_client():
    cache = ReusingRedisCache(os.environ["TEST_REDIS_URL"], {"KEY_PREFIX": uuid.uuid4().hex})
    try:
        cache.set("history", [1.5, 2.5], 30)
        assert cache.get("history") == [1.5, 2.5]
        assert cache.add("failures", 1, 30) is True
        assert cache.add("failures", 1, 30) is False
        assert cache.incr("failures") == 2
        assert cache.get("missing", "default") == "default"
        client = cache._cache.get_client(write=True)
        assert cache._cache.get_client() is client  # built once, not per call
    finally:
        cache.delete_many(["history", "failures"])
