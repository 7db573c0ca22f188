"""A real gunicorn on the test database, and a threaded app client that loads it over loopback.

Used by the load and fault tests (marked postgres): gunicorn runs with gunicorn.conf.py, as in
production, on the PostgreSQL test database the test committed its data to, with a private
Redis for the cache, the throttles and the buffered counters.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from base64 import b64encode
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection
from django.utils import timezone

from authority.accounts.models import User
from authority.formats.otp import generate_otp, otp_sha256_hex
from authority.otps.services import authorize_otp

ROOT = Path(__file__).resolve().parents[2]
# gunicorn's access-log line as gunicorn.conf.py writes it: [time] "METHOD path" status size ms
ACCESS_LINE = re.compile(r'^\[[^\]]+\] "[A-Z]+ \S+" \d{3} ')


def database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    conf = connection.settings_dict
    user = quote(conf["USER"] or "", safe="")
    password = quote(conf["PASSWORD"] or "", safe="")
    host = conf["HOST"] or "127.0.0.1"
    port = conf["PORT"] or "5432"
    return f"postgresql://{user}:{password}@{host}:{port}/{conf['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveGunicorn:
    """gunicorn with the production config file, started and stopped by a test."""

    def __init__(self, *, redis_url: str, redis_prefix: str, var_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.log = var_dir / "gunicorn.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "authority.settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "STATISTICS_REDIS_PREFIX": redis_prefix,
            "AUTHORITY_VAR_DIR": str(var_dir),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            # These tests count answers exactly; a test machine busy with other tests may keep
            # Redis waiting longer than production's 2 s, which is not what they test.
            "REDIS_SOCKET_TIMEOUT": "20",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "8",
            "DEVICE_API_MIN_RESPONSE_MS": "0",
            "DEVICE_API_RESPONSE_SPREAD_MS": "0",
            "DEVICE_API_CHECK_OTP_RATE": "1000000/minute",
            "DEVICE_API_UPLOAD_RATE": "1000000/minute",
            "DEVICE_API_ANALYTICS_RATE": "1000000/minute",
            # Every request comes from 127.0.0.1: one network, whose guessing budget a load
            # test with guessed codes would use up.
            "GUESSING_NETWORK_BURST": "1000000",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "authority.wsgi",
                    "--config",
                    str(ROOT / "gunicorn.conf.py"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_tail()}")
            try:
                status, _ = request(self.port, "GET", "/v1/keys/index")
            except OSError:
                time.sleep(0.1)
                continue
            if status in (200, 404):
                return
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer: {self.log_tail()}")

    def log_tail(self, chars: int = 6000) -> str:
        """What gunicorn and the app logged, for a failing assertion: first every line that is
        not an access-log line (errors and their tracebacks), then the end of the log."""
        text = self.log.read_text(errors="replace")
        other = [line for line in text.splitlines() if not ACCESS_LINE.match(line)]
        return "\n".join(other)[-chars:] + "\n--- end of the log ---\n" + text[-chars // 3 :]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


# --- What the phones send -------------------------------------------------------------------


def authorized_codes(count: int, operator: User, settings: Any) -> list[str]:
    """`count` codes authorized through the service layer (quotas raised for the test)."""
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 1_000_000
    settings.OTP_QUOTA_PER_REGION_PER_DAY = 1_000_000
    codes = [generate_otp() for _ in range(count)]
    for code in codes:
        authorize_otp(
            code=code, onset_date=timezone.localdate() - timedelta(days=2), operator=operator
        )
    return codes


def todays_interval() -> int:
    return int(timezone.now().timestamp()) // 600 // 144 * 144


@dataclass
class Upload:
    """One upload as a phone sends it; `code` None means a guessed (unknown) code."""

    code: str | None
    dummy: bool = False
    keys: list[bytes] = field(default_factory=list)
    valid: bool = True
    status: int | None = None
    response: bytes = b""

    @classmethod
    def real(cls, code: str | None, key_count: int = 14) -> Upload:
        return cls(code=code, keys=[secrets.token_bytes(16) for _ in range(key_count)])

    def body(self) -> bytes:
        today = todays_interval()
        teks = [
            {
                "key_data": b64encode(key).decode(),
                "rolling_start_number": today - 144 * day,
                "rolling_period": 144,
            }
            for day, key in enumerate(self.keys)
        ]
        body = {
            "province": "RM" if self.valid else "??",
            "teks": teks,
            "exposure_detection_summaries": [],
            "padding": secrets.token_hex(256),
        }
        return json.dumps(body).encode()

    def headers(self) -> dict[str, str]:
        bearer = otp_sha256_hex(self.code) if self.code else secrets.token_hex(32)
        return {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {bearer}",
            "Immuni-Dummy-Data": "1" if self.dummy else "0",
            "Immuni-Client-Clock": str(int(time.time())),
        }


def send_all(port: int, uploads: Iterable[Upload], *, threads: int = 8) -> None:
    """Send every upload once, from `threads` keep-alive connections; record each answer.

    A connection error (not expected: gunicorn stays up) is recorded as status 0.
    """
    queue = list(uploads)
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                upload = queue.pop()
            try:
                upload.status, upload.response = request(
                    port, "POST", "/v1/ingestion/upload", upload.body(), upload.headers(), conn
                )
            except (OSError, http.client.HTTPException):
                upload.status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
