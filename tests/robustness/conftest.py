"""Robustness tests: the device API tests' app client, private Redis servers, a live gunicorn.

(tests/conftest.py clears the cache, with the throttles' counts, before every test.)"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import IN_CI
from tests.ingestion.conftest import app_client, authorized_otp
from tests.robustness.live import LiveGunicorn, free_port

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")

__all__ = ["app_client", "authorized_otp"]


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test may kill and restart.

    `appendonly=True` runs it with an append-only file fsynced at every write, in the test's
    folder, so a restart after SIGKILL finds every acknowledged write again.
    """

    def __init__(self, folder: Path, *, appendonly: bool) -> None:
        self.folder = folder
        self.appendonly = appendonly
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.appendonly
            else ["--appendonly", "no"]
        )
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--dir", str(self.folder), *persistence),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        connection = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if connection.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def kill(self) -> None:
        """A crash: SIGKILL, no chance to write anything more."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Callable[..., PrivateRedis]]:
    """Start private redis-servers; all are stopped after the test."""
    if not os.path.exists(REDIS_SERVER):
        if IN_CI:
            pytest.fail(f"CI must run the Redis fault tests ({REDIS_SERVER} is missing)")
        pytest.skip(f"needs {REDIS_SERVER}")
    started: list[PrivateRedis] = []

    def start(*, appendonly: bool = True) -> PrivateRedis:
        server = PrivateRedis(tmp_path / f"redis-{len(started)}", appendonly=appendonly)
        server.folder.mkdir()
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_gunicorn(
    private_redis: Callable[..., PrivateRedis], settings, tmp_path: Path
) -> Iterator[Callable[..., LiveGunicorn]]:
    """Start gunicorn (production config) on the test database with a private Redis, whose
    buffered counters this process can flush (same Redis, same prefix); `env` overrides."""
    started: list[LiveGunicorn] = []

    def start(**env: str) -> LiveGunicorn:
        redis_server = private_redis()
        prefix = f"test:{secrets.token_hex(4)}"
        settings.STATISTICS_REDIS_URL = redis_server.url
        settings.STATISTICS_REDIS_PREFIX = prefix
        server = LiveGunicorn(
            redis_url=redis_server.url, redis_prefix=prefix, var_dir=tmp_path, **env
        )
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
