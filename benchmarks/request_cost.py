"""Server time of one request of each kind, in one process with no HTTP server; one JSON line.

Usage: DATABASE_URL=postgresql://... .venv/bin/python benchmarks/request_cost.py
           [--requests 2000] [--profile KIND]

The HTTP benchmarks say how many requests per second the whole stack serves; this one says
where a request's time goes, without gunicorn, the load generator and the other threads
competing for the two cores. Same settings as the HTTP benchmarks (production mode, a scratch
PostgreSQL database, a private Redis for the cache, throttles and buffered counters; the
benchmarks' URLconf with the trivial endpoint), anti-timing delay off. Each kind of request is
sent --requests times through Django's test client, one after the other; the figures are
wall-clock and CPU milliseconds per request (CPU is this process's: the database's and
Redis' work shows in wall time only). `--profile upload_real` prints the cProfile of that
kind instead (to stderr, after the JSON line).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import secrets
import sys
import tempfile
import time
from base64 import b64encode
from datetime import date
from hashlib import sha256
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PrivateRedis, ScratchPostgres, machine, rmtree, server_environment
from upload import UPLOAD, setup_database

CHECK_OTP = "/v1/ingestion/check-otp"
GOOGLE = "/v1/analytics/google/operational-info"


def upload_body(today: int) -> dict:
    return {
        "province": "RM",
        "teks": [
            {
                "key_data": b64encode(secrets.token_bytes(16)).decode(),
                "rolling_start_number": today - 144 * day,
                "rolling_period": 144,
            }
            for day in range(14)
        ],
        "exposure_detection_summaries": [],
        "padding": "0" * 512,
    }


def operational_info_body() -> dict:
    return {
        "province": "RM",
        "exposure_permission": 1,
        "bluetooth_active": 1,
        "notification_permission": 1,
        "exposure_notification": 0,
        "last_risky_exposure_on": date.today().isoformat(),
        "salt": b64encode(secrets.token_bytes(16)).decode(),
        "signed_attestation": "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl",
        "padding": "0" * 256,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", default="", help="print the cProfile of this kind")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="request-cost-"))
    scratch = ScratchPostgres(os.environ.get("DATABASE_URL", ""), "cost")
    try:
        with scratch as database_url, PrivateRedis() as redis_server:
            env = server_environment(database_url, redis_server.url, var_dir)
            env.update(
                DEVICE_API_MIN_RESPONSE_MS="0",
                DEVICE_API_RESPONSE_SPREAD_MS="0",
            )
            codes, _seconds = setup_database(env, args.requests + 10)
            os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
            from django.conf import settings

            settings.ROOT_URLCONF = "bench_urls"
            result = measure(codes, args)
    finally:
        rmtree(var_dir)
    print(json.dumps({"benchmark": "request_cost", **result, "machine": machine()}))
    if args.profile:
        stats = pstats.Stats(PROFILE, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(45)
    return 0


PROFILE = cProfile.Profile()


def measure(codes: list[str], args: argparse.Namespace) -> dict:
    from django.test import Client

    from authority.statistics import buffer

    client = Client(HTTP_HOST="localhost")
    today = int(time.time()) // 600 // 144 * 144
    clock = str(int(time.time()))

    def trivial() -> object:
        return client.post("/bench/trivial", b"{}", content_type="application/json")

    def upload(dummy: bool) -> object:
        bearer = secrets.token_hex(32) if dummy else sha256(codes.pop().encode()).hexdigest()
        return client.post(
            UPLOAD,
            json.dumps(upload_body(today)),
            content_type="application/json",
            headers={
                "Authorization": f"Bearer {bearer}",
                "Immuni-Dummy-Data": "1" if dummy else "0",
                "Immuni-Client-Clock": clock,
            },
        )

    def check_otp_unknown() -> object:
        return client.post(
            CHECK_OTP,
            json.dumps({"padding": "0" * 256}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {secrets.token_hex(32)}", "Immuni-Dummy-Data": "0"},
        )

    def operational_info() -> object:
        return client.post(
            GOOGLE,
            json.dumps(operational_info_body()),
            content_type="application/json",
            headers={"Immuni-Dummy-Data": "0"},
        )

    kinds = {
        "trivial": (trivial, 204),
        "upload_dummy": (lambda: upload(True), 204),
        "upload_real": (lambda: upload(False), 204),
        "check_otp_unknown": (check_otp_unknown, 401),
        "operational_info": (operational_info, 204),
    }
    figures: dict[str, object] = {}
    for name, (send, expected) in kinds.items():
        for _ in range(20):  # warm up: imports, connections, caches
            if name != "upload_real":
                send()
        profiling = name == args.profile
        wall = time.perf_counter()
        cpu = time.process_time()
        if profiling:
            PROFILE.enable()
        for _ in range(args.requests):
            response = send()
            if response.status_code != expected:  # type: ignore[attr-defined]
                raise SystemExit(f"{name}: {response.status_code} {response.content[:300]!r}")  # type: ignore[attr-defined]
        if profiling:
            PROFILE.disable()
        figures[name] = {
            "wall_ms": round((time.perf_counter() - wall) * 1000 / args.requests, 3),
            "cpu_ms": round((time.process_time() - cpu) * 1000 / args.requests, 3),
        }
    buffer.flush()
    from django.db import connections

    connections.close_all()
    return {"requests_each": args.requests, **figures}


if __name__ == "__main__":
    sys.exit(main())
