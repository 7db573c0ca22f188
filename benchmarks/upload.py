"""Upload API over gunicorn and PostgreSQL: sustained uploads per second and latency, next to a
trivial endpoint of the same stack, with and without the anti-timing delay; one JSON line.

Usage: DATABASE_URL=postgresql://... .venv/bin/python benchmarks/upload.py
           [--seconds 10] [--dummy-share 0.5] [--concurrency 32] [--delay-concurrency 96]

What runs: a scratch database next to DATABASE_URL's (created, migrated, dropped), a private
redis-server (cache, throttles, buffered counters), and gunicorn with gunicorn.conf.py in
production mode (DEBUG off, access log to /dev/null). Codes are authorized beforehand through
the service layer (authority.otps.services.authorize_otp). Each real upload carries 14 keys
and a fresh code; dummy uploads (`Immuni-Dummy-Data: 1`, share --dummy-share) have the same
shape and size. The load generator is this process (asyncio, keep-alive connections over
loopback); gunicorn runs in child processes on the same 2 cores.

For each server — raw (DEVICE_API_MIN_RESPONSE_MS=0, SPREAD=0) and with the production delay
(150 + uniform(0, 100) ms) — three phases of --seconds each:

1. the trivial endpoint (POST /bench/trivial, benchmarks/bench_urls.py), closed loop: the
   most this stack serves;
2. uploads, closed loop: the most uploads per second (real and dummy mixed);
3. uploads, open loop at 80% of that rate: p50/p99 latency from the moment each request was
   due (no coordinated omission).

Targets (raw server): uploads/s >= half the trivial endpoint's; p99 < 100 ms at 80% load.
With the delay the p99 is ~250 ms by design: every answer waits for a drawn delay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import tempfile
import time
from base64 import b64encode
from datetime import timedelta
from hashlib import sha256
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    TRIVIAL,
    Gunicorn,
    PrivateRedis,
    ScratchPostgres,
    closed_loop,
    http_request,
    machine,
    open_loop,
    postgres_version,
    rmtree,
    server_environment,
)

UPLOAD = "/v1/ingestion/upload"


def setup_database(env: dict[str, str], codes: int) -> tuple[list[str], float]:
    """Migrate and authorize `codes` codes through the service layer; (codes, seconds)."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "authority.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from authority.accounts.models import Region, Role, User
    from authority.formats.otp import generate_otp
    from authority.otps.services import authorize_otp

    call_command("migrate", verbosity=0)
    lazio = Region.objects.get(name="Lazio")
    operator = User.objects.create(username="bench-operator", role=Role.OPERATOR, region=lazio)
    onset = timezone.localdate() - timedelta(days=2)
    started = time.perf_counter()
    made = []
    for _ in range(codes):
        code = generate_otp()
        authorize_otp(code=code, onset_date=onset, operator=operator)
        made.append(code)
    seconds = time.perf_counter() - started
    connections.close_all()
    return made, seconds


class Phones:
    """Makes upload requests: real ones (each with a fresh code) and dummy ones."""

    def __init__(self, codes: list[str], dummy_share: float, keys: int) -> None:
        self.codes = codes
        self.dummy_share = dummy_share
        self.keys = keys
        self.rng = random.Random(8)
        self.today = int(time.time()) // 600 // 144 * 144
        self.padding = "0" * 512

    def body(self) -> bytes:
        teks = [
            {
                "key_data": b64encode(secrets.token_bytes(16)).decode(),
                "rolling_start_number": self.today - 144 * day,
                "rolling_period": 144,
            }
            for day in range(self.keys)
        ]
        return json.dumps(
            {
                "province": "RM",
                "teks": teks,
                "exposure_detection_summaries": [],
                "padding": self.padding,
            }
        ).encode()

    def real(self) -> tuple[str, bytes]:
        if not self.codes:
            raise SystemExit("Out of codes: raise --codes")
        bearer = sha256(self.codes.pop().encode()).hexdigest()
        return "real", self._request(bearer, dummy=False)

    def dummy(self) -> tuple[str, bytes]:
        return "dummy", self._request(secrets.token_hex(32), dummy=True)

    def mixed(self) -> tuple[str, bytes]:
        return self.dummy() if self.rng.random() < self.dummy_share else self.real()

    def _request(self, bearer: str, *, dummy: bool) -> bytes:
        headers = {
            "Authorization": f"Bearer {bearer}",
            "Immuni-Dummy-Data": "1" if dummy else "0",
            "Immuni-Client-Clock": str(int(time.time())),
        }
        return http_request(UPLOAD, self.body(), headers)


def measure(server: Gunicorn, phones: Phones, args: argparse.Namespace, concurrency: int) -> dict:
    trivial = asyncio.run(
        closed_loop(server.port, lambda: TRIVIAL, concurrency=concurrency, seconds=args.seconds)
    )
    saturated = asyncio.run(
        closed_loop(server.port, phones.mixed, concurrency=concurrency, seconds=args.seconds)
    )
    max_rate = len(saturated.samples) / saturated.seconds
    loaded = asyncio.run(
        open_loop(server.port, phones.mixed, rate=0.8 * max_rate, seconds=args.seconds)
    )
    trivial_rate = len(trivial.samples) / trivial.seconds
    return {
        "gunicorn_workers_x_threads": server.workers,
        "concurrency": concurrency,
        "trivial": trivial.summary(),
        "uploads_max": {
            **saturated.summary(),
            "real": saturated.summary("real"),
            "dummy": saturated.summary("dummy"),
        },
        "uploads_at_80_percent": {
            "offered_per_second": round(0.8 * max_rate, 1),
            **loaded.summary(),
            "real": loaded.summary("real"),
            "dummy": loaded.summary("dummy"),
        },
        "upload_to_trivial_ratio": round(max_rate / trivial_rate, 3),
        "connection_errors": trivial.errors + saturated.errors + loaded.errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--dummy-share", type=float, default=0.5)
    parser.add_argument("--keys", type=int, default=14, help="keys per upload")
    parser.add_argument("--concurrency", type=int, default=32, help="connections, raw server")
    parser.add_argument(
        "--delay-concurrency", type=int, default=96, help="connections, server with the delay"
    )
    parser.add_argument("--codes", type=int, default=0, help="codes to authorize (0: enough)")
    parser.add_argument(
        "--raw-only", action="store_true", help="skip the server with the production delay"
    )
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="upload-benchmark-"))
    scratch = ScratchPostgres(os.environ.get("DATABASE_URL", ""), "upload")
    try:
        with scratch as database_url, PrivateRedis() as redis_server:
            env = server_environment(database_url, redis_server.url, var_dir)
            # Real uploads over four phases of at most ~600/s each, with margin.
            phases = 2 if args.raw_only else 4
            expected = phases * args.seconds * 600 * (1 - args.dummy_share)
            codes_needed = args.codes or int(expected) + 500
            codes, codes_seconds = setup_database(env, codes_needed)
            phones = Phones(codes, args.dummy_share, args.keys)
            raw_env = {"DEVICE_API_MIN_RESPONSE_MS": "0", "DEVICE_API_RESPONSE_SPREAD_MS": "0"}
            with Gunicorn(env, **raw_env) as server:
                raw = measure(server, phones, args, args.concurrency)
            delayed = None
            if not args.raw_only:
                with Gunicorn(env) as server:
                    delayed = measure(server, phones, args, args.delay_concurrency)
            from django.db import connections

            from authority.keys.models import ExposureKey

            stored_keys = ExposureKey.objects.count()
            connections.close_all()
            database = postgres_version(database_url)
    finally:
        rmtree(var_dir)

    raw_p99 = raw["uploads_at_80_percent"]["p99_ms"]
    result = {
        "benchmark": "upload",
        "keys_per_upload": args.keys,
        "dummy_share": args.dummy_share,
        "phase_seconds": args.seconds,
        "codes_authorized": codes_needed,
        "codes_authorized_per_second": round(codes_needed / codes_seconds, 1),
        "raw": raw,
        "with_delay": delayed,
        "delay_ms": "150 + uniform(0, 100) (production default)",
        "keys_stored": stored_keys,
        "target_ratio": 0.5,
        "target_p99_ms_at_80_percent": 100,
        "meets_ratio_target": raw["upload_to_trivial_ratio"] >= 0.5,
        "meets_p99_target": raw_p99 is not None and raw_p99 < 100,
        "database": database,
        "machine": machine(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
