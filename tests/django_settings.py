"""The test suite's settings: the product's settings, plus what a test run needs to be fast and
self-contained (pyproject.toml names this module for pytest-django).

Nothing here is read by `dev.py run` or production: they load authority.settings, which no
longer looks at whether pytest is imported. A test that needs another value sets it with the
`settings` fixture or `override_settings`; a test of production's behaviour starts a process of
its own on authority.settings (tests/settings/test_settings.py, tests/robustness/live.py).
"""

import atexit
import os
import shutil
import tempfile

# Each test process (one per pytest-xdist worker) keeps what it writes (batch files, audit
# checkpoints, mail, broker folders) in a folder of its own, removed when it exits: never in the
# var/ of `dev.py run`, never where another worker writes the same file names.
_VAR_DIR = tempfile.mkdtemp(prefix="authority-tests-")
atexit.register(shutil.rmtree, _VAR_DIR, ignore_errors=True)
os.environ["AUTHORITY_VAR_DIR"] = _VAR_DIR

from authority.env import ConfigurationError  # noqa: E402
from authority.settings import *  # noqa: E402, F403
from authority.settings import PRODUCTION, SILENCED_SYSTEM_CHECKS  # noqa: E402

if PRODUCTION:
    # A production environment (AUTHORITY_MODE=production) never runs on test settings: they
    # switch off the response delay, the statistics buffer and the Redis cache.
    raise ConfigurationError("tests.django_settings cannot be used with AUTHORITY_MODE=production")

# One process, no shared server: each test starts from an empty in-memory cache (conftest
# clears it), whatever REDIS_URL the environment names. Tests of Redis set CACHES themselves.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }
}
# Thousands of users are made and logged in: a deliberately slow hash would cost minutes.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# axes warns that the local-memory cache is not shared between processes: in a test process,
# it counts every failed login.
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "axes.W001"]
# Tasks run where they are called, so a test sees their effect; the real-worker tests start
# worker processes on authority.settings with a broker (tests/keys/test_concurrency.py).
CELERY_TASK_ALWAYS_EAGER = True
# The device API's answers are held to a uniform time in production (DESIGN.md 3.7); the tests
# of that delay set it themselves (tests/ingestion/test_dummy_traffic.py).
DEVICE_API_MIN_RESPONSE_MS = 0
DEVICE_API_RESPONSE_SPREAD_MS = 0
# Dummy check-otps always 204 here; the test of the 401 share sets it (tests/ingestion).
DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT = 0
# Counters go straight to the database; the buffer's tests turn it on with a Redis of their own
# (tests/dashboard/conftest.py `redis_buffer`).
STATISTICS_BUFFERED = False
