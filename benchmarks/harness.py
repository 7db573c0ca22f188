"""What the HTTP benchmarks share: a scratch PostgreSQL database, a private Redis, gunicorn
started with gunicorn.conf.py, and an asyncio load generator over loopback.

Not a benchmark itself. The load generator runs in the benchmark's own process, gunicorn in
its children: on this 2-core machine both share the CPU, which every figure includes.
"""

from __future__ import annotations

import asyncio
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()} x{os.cpu_count()} ({cpu}), Python {platform.python_version()}"


def postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


class ScratchPostgres:
    """A database created for the run next to the one DATABASE_URL names, dropped after."""

    def __init__(self, url: str, label: str) -> None:
        if not url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("Set DATABASE_URL to a PostgreSQL server (the role needs CREATEDB).")
        self.admin_url = url
        self.name = f"authority_bench_{label}_{os.getpid()}"
        self.url = urlunsplit(urlsplit(url)._replace(path=f"/{self.name}"))

    def __enter__(self) -> str:
        self._execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc: object) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)


class PrivateRedis:
    """A redis-server of the benchmark's own (no persistence), stopped after."""

    def __init__(self) -> None:
        if not Path(REDIS_SERVER).exists():
            raise SystemExit(f"{REDIS_SERVER} is needed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def server_environment(database_url: str, redis_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of production (PostgreSQL, Redis, no debug), with generous per-client
    throttles: the load generator is one client address."""
    return {
        **os.environ,
        "AUTHORITY_MODE": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "OTP_HMAC_KEY": secrets.token_urlsafe(48),
        "SIGNING_KEY_ENCRYPTION_KEY": secrets.token_urlsafe(48),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
        # Production wants a checkpoint sink of its own (docs/audit-trail.md).
        "AUDIT_CHECKPOINT_DIR": str(var_dir / "audit-checkpoints"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "TRUSTED_PROXY_COUNT": "0",  # the load generator connects directly
        "OPERATIONAL_INFO_VERIFIER": "authority.ingestion.analytics.attestation.DevelopmentVerifier",
        # Nothing is e-mailed by the benchmarks; production only needs the server named.
        "SITE_URL": "https://authority.example.org",
        "EMAIL_HOST": "127.0.0.1",
        "DEFAULT_FROM_EMAIL": "noreply@authority.example.org",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AUTHORITY_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "DEVICE_API_CHECK_OTP_RATE": "100000000/minute",
        "DEVICE_API_UPLOAD_RATE": "100000000/minute",
        "DEVICE_API_ANALYTICS_RATE": "100000000/minute",
        # The load generator is one address, so one network: no guessing budget either.
        "GUESSING_NETWORK_BURST": "100000000",
        "GUESSING_GUARD_THRESHOLD": "100000000",
        "OTP_QUOTA_PER_OPERATOR_PER_DAY": "100000000",
        "OTP_QUOTA_PER_REGION_PER_DAY": "100000000",
    }


class Gunicorn:
    """gunicorn authority.wsgi --config gunicorn.conf.py, with the benchmarks' URLconf; its
    access log (no client addresses, as configured) goes to a file in the run's folder."""

    def __init__(self, env: dict[str, str], **overrides: str) -> None:
        self.port = free_port()
        self.env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            **overrides,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(env["AUTHORITY_VAR_DIR"]) / f"gunicorn-{self.port}.log"

    def __enter__(self) -> Gunicorn:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "gunicorn", "authority.wsgi"),
                    *("--config", str(ROOT / "gunicorn.conf.py")),
                    *("--pythonpath", str(BENCHMARKS)),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        for _ in range(300):
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped:\n{self.log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        # Every worker imports Django on its first request: warm them all up.
        asyncio.run(closed_loop(self.port, lambda: TRIVIAL, concurrency=32, seconds=1.0))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)

    @property
    def workers(self) -> str:
        workers = self.env.get("GUNICORN_WORKERS", str(os.cpu_count() or 2))
        kind = self.env.get("GUNICORN_WORKER_CLASS", "gthread")
        if kind == "gthread":
            return f"{workers} gthread x {self.env.get('GUNICORN_THREADS', '32')} threads"
        return f"{workers} {kind}"


# --- Requests --------------------------------------------------------------------------------


def http_request(path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


TRIVIAL = http_request("/bench/trivial", b"{}")


@dataclass
class Sample:
    kind: str
    status: int
    seconds: float
    response_bytes: int


@dataclass
class Run:
    """Outcome of one load phase."""

    seconds: float
    samples: list[Sample] = field(default_factory=list)
    errors: int = 0  # connections that failed (none expected)

    def select(self, kind: str | None = None) -> list[Sample]:
        return [s for s in self.samples if kind is None or s.kind == kind]

    def summary(self, kind: str | None = None) -> dict[str, object]:
        chosen = self.select(kind)
        latencies = sorted(s.seconds * 1000 for s in chosen)
        return {
            "requests": len(chosen),
            "per_second": round(len(chosen) / self.seconds, 1) if self.seconds else None,
            "p50_ms": round(percentile(latencies, 50), 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
            "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
            "statuses": dict(sorted(_count(s.status for s in chosen).items())),
        }


def _count(values) -> dict[int, int]:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def percentile(ordered: Sequence[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- The load generator ----------------------------------------------------------------------

Source = Callable[[], "bytes | tuple[str, bytes]"]


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def exchange(self, raw: bytes) -> tuple[int, int]:
        """Send one request, read its whole response: (status, response bytes)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status, len(head) + length

    def close(self) -> None:
        self.writer.close()


def _split(item: bytes | tuple[str, bytes]) -> tuple[str, bytes]:
    return item if isinstance(item, tuple) else ("request", item)


async def closed_loop(port: int, source: Source, *, concurrency: int, seconds: float) -> Run:
    """`concurrency` keep-alive connections, each sending its next request as soon as the
    previous one is answered, for `seconds`: the most the server can serve."""
    run = Run(seconds=seconds)
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        connection = await _Connection.open(port)
        try:
            while time.perf_counter() < deadline:
                kind, raw = _split(source())
                started = time.perf_counter()
                try:
                    status, size = await connection.exchange(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    run.errors += 1
                    connection.close()
                    connection = await _Connection.open(port)
                    continue
                run.samples.append(Sample(kind, status, time.perf_counter() - started, size))
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - started
    return run


async def open_loop(
    port: int, source: Source, *, rate: float, seconds: float, max_connections: int = 512
) -> Run:
    """Requests arriving at a fixed `rate` per second for `seconds`, whatever the answers take;
    a latency counts from the moment its request was due (no coordinated omission)."""
    run = Run(seconds=seconds)
    idle: list[_Connection] = []
    opened = 0
    pending: set[asyncio.Task[None]] = set()
    interval = 1 / rate
    total = int(rate * seconds)

    async def one(due: float, kind: str, raw: bytes) -> None:
        nonlocal opened
        connection = idle.pop() if idle else None
        reused = connection is not None
        if connection is None:
            opened += 1
            connection = await _Connection.open(port)
        try:
            status, size = await connection.exchange(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.close()
            if not reused:
                run.errors += 1
                return
            # gunicorn closes keep-alive connections idle for 2 s: the request never reached
            # it, so send it again on a new connection (its latency still counts from `due`).
            connection = await _Connection.open(port)
            try:
                status, size = await connection.exchange(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                run.errors += 1
                connection.close()
                return
        run.samples.append(Sample(kind, status, time.perf_counter() - due, size))
        idle.append(connection)

    started = time.perf_counter()
    for n in range(total):
        due = started + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(pending) >= max_connections:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        kind, raw = _split(source())
        task = asyncio.create_task(one(due, kind, raw))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending)
    run.seconds = seconds
    for connection in idle:
        connection.close()
    return run


def rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
