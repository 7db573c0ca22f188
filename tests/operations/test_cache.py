"""The production cache: django-redis on REDIS_URL, reusing one client (the throttles call it
twice a request), with the public get_redis_connection for what Django's cache API lacks."""

from __future__ import annotations

import json
import os

import pytest

from tests.settings.test_settings import PRODUCTION_ENV, run_manage

# Run in a production process: the test process itself uses a local-memory cache.
PROBE = """
import json, uuid
from django.core.cache import cache, caches
from django_redis import get_redis_connection
key = uuid.uuid4().hex
try:
    cache.set(key + ":history", [1.5, 2.5], 30)
    print(json.dumps({
        "backend": type(caches["default"]).__module__ + "." + type(caches["default"]).__name__,
        "history": cache.get(key + ":history"),
        "first_add": cache.add(key + ":failures", 1, 30),
        "second_add": cache.add(key + ":failures", 1, 30),
        "incr": cache.incr(key + ":failures"),
        "missing": cache.get(key + ":missing", "default"),
        "one_client": get_redis_connection("default") is get_redis_connection("default"),
        "ttl_set": 0 < get_redis_connection("default").ttl(cache.make_key(key + ":failures")) <= 30,
    }))
finally:
    cache.delete_many([key + ":history", key + ":failures"])
"""


@pytest.mark.redis
def test_the_production_cache_works_as_djangos_through_one_client():
    result = run_manage(
        "shell", "-c", PROBE, **{**PRODUCTION_ENV, "REDIS_URL": os.environ["TEST_REDIS_URL"]}
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "backend": "django_redis.cache.RedisCache",
        "history": [1.5, 2.5],
        "first_add": True,
        "second_add": False,
        "incr": 2,
        "missing": "default",
        "one_client": True,
        "ttl_set": True,
    }
