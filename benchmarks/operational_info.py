"""The apps' operational info over gunicorn and PostgreSQL: requests per second next to the
trivial endpoint of the same stack; one JSON line.

Usage: DATABASE_URL=postgresql://... .venv/bin/python benchmarks/operational_info.py
           [--seconds 10] [--concurrency 32]

Same stack as benchmarks/upload.py (scratch database, private Redis for the cache and the
buffered counters, gunicorn with gunicorn.conf.py in production mode), response delay off
(DEVICE_API_MIN_RESPONSE_MS=0) to measure the processing. Android reports, each with a new salt
so that each one counts (the once-a-month token goes to the cache, the counters to Redis),
then the trivial endpoint, each in a closed loop for --seconds. Target: at least 60% of the
trivial endpoint's rate. The dashboard's overview time is benchmarks/dashboard.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
from base64 import b64encode
from datetime import date
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
    postgres_version,
    rmtree,
    server_environment,
)
from upload import setup_database

GOOGLE = "/v1/analytics/google/operational-info"


def report() -> tuple[str, bytes]:
    body = {
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
    raw = http_request(GOOGLE, json.dumps(body).encode(), {"Immuni-Dummy-Data": "0"})
    return "operational-info", raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="operational-info-benchmark-"))
    scratch = ScratchPostgres(os.environ.get("DATABASE_URL", ""), "opinfo")
    try:
        with scratch as database_url, PrivateRedis() as redis_server:
            env = server_environment(database_url, redis_server.url, var_dir)
            setup_database(env, 0)
            raw = {"DEVICE_API_MIN_RESPONSE_MS": "0", "DEVICE_API_RESPONSE_SPREAD_MS": "0"}
            with Gunicorn(env, **raw) as server:
                reports = asyncio.run(
                    closed_loop(
                        server.port, report, concurrency=args.concurrency, seconds=args.seconds
                    )
                )
                trivial = asyncio.run(
                    closed_loop(
                        server.port,
                        lambda: TRIVIAL,
                        concurrency=args.concurrency,
                        seconds=args.seconds,
                    )
                )
            from authority.statistics import buffer

            counted = buffer.flush().counters  # what the beat task does every minute
            from django.db import connections

            from authority.statistics.models import DailyCounter

            apps_reporting = sum(
                DailyCounter.objects.filter(metric="app_reports").values_list("value", flat=True)
            )
            connections.close_all()
            database = postgres_version(database_url)
    finally:
        rmtree(var_dir)

    ratio = (len(reports.samples) / reports.seconds) / (len(trivial.samples) / trivial.seconds)
    result = {
        "benchmark": "operational_info",
        "gunicorn_workers_x_threads": server.workers,
        "concurrency": args.concurrency,
        "operational_info": reports.summary(),
        "trivial": trivial.summary(),
        "ratio_to_trivial": round(ratio, 3),
        "target_ratio": 0.6,
        "meets_target": ratio >= 0.6,
        "reports_counted_after_flush": apps_reporting,
        "counter_fields_flushed": counted,
        "connection_errors": reports.errors + trivial.errors,
        "database": database,
        "machine": machine(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
