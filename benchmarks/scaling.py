"""Upload latency as the key table grows from 10 thousand to 5 million rows; one JSON line.

Usage: DATABASE_URL=postgresql://... .venv/bin/python benchmarks/scaling.py
           [--max-rows 5000000] [--rate 50] [--seconds 10]

Same stack as benchmarks/upload.py (scratch database, private Redis, gunicorn with
gunicorn.conf.py in production mode), response delay off to see the processing itself. The
key table is filled with SQL (generate_series, random 16-byte keys spread over 14 days, in
chunks of a million rows, then VACUUM ANALYZE) to 10k, 100k, 1M and 5M rows (as far as
--max-rows); at each size real uploads of 14 keys arrive at --rate per second for --seconds
(open loop) and their p50/p99 latency is reported. Flat means: the unique index on the keys and
the partial index of keys awaiting publication grow as B-trees, so each upload's lookups and
inserts cost O(log n). The whole run takes about 5 minutes at 5M rows on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    Gunicorn,
    PrivateRedis,
    ScratchPostgres,
    machine,
    open_loop,
    postgres_version,
    rmtree,
    server_environment,
)
from upload import Phones, setup_database

LEVELS = (10_000, 100_000, 1_000_000, 5_000_000)
CHUNK = 1_000_000

FILL = """
INSERT INTO keys_exposurekey (id, key_data, rolling_start_interval_number, rolling_period,
    rolling_end_interval_number, report_type, days_since_onset_of_symptoms, region_id)
SELECT gen_random_uuid(), uuid_send(gen_random_uuid()), start, 144, start + 144, 1,
    (random() * 14)::int, %(region)s
FROM (SELECT %(today)s - 144 * (g %% 14) AS start FROM generate_series(1, %(rows)s) AS g) AS s
"""


def fill_to(database_url: str, rows: int, region: int) -> float:
    """Insert keys until the table holds `rows`; return the seconds it took (with VACUUM)."""
    import psycopg

    started = time.perf_counter()
    today = int(time.time()) // 600 // 144 * 144
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute("SELECT count(*) FROM keys_exposurekey").fetchone()
        missing = rows - (row[0] if row else 0)
        while missing > 0:
            chunk = min(CHUNK, missing)
            connection.execute(FILL, {"region": region, "today": today, "rows": chunk})
            missing -= chunk
        connection.execute("VACUUM ANALYZE keys_exposurekey")
    return time.perf_counter() - started


def table_megabytes(database_url: str) -> float:
    import psycopg

    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT pg_total_relation_size('keys_exposurekey') / 1048576.0"
        ).fetchone()
    return round(float(row[0]) if row else 0.0, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=5_000_000)
    parser.add_argument("--rate", type=float, default=50.0, help="uploads per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="load at each size")
    args = parser.parse_args()
    levels = [rows for rows in LEVELS if rows <= args.max_rows]

    var_dir = Path(tempfile.mkdtemp(prefix="scaling-benchmark-"))
    scratch = ScratchPostgres(os.environ.get("DATABASE_URL", ""), "scaling")
    figures = []
    try:
        with scratch as database_url, PrivateRedis() as redis_server:
            env = server_environment(database_url, redis_server.url, var_dir)
            per_level = int(args.rate * args.seconds)
            codes, _ = setup_database(env, per_level * len(levels) + int(args.rate * 2) + 50)
            from authority.accounts.models import Region

            region = Region.objects.get(name="Lazio").pk
            from django.db import connections

            connections.close_all()
            phones = Phones(codes, dummy_share=0.0, keys=14)
            raw = {"DEVICE_API_MIN_RESPONSE_MS": "0", "DEVICE_API_RESPONSE_SPREAD_MS": "0"}
            with Gunicorn(env, **raw) as server:
                # Unmeasured: every worker thread opens its database connection.
                asyncio.run(open_loop(server.port, phones.real, rate=args.rate, seconds=2))
                for rows in levels:
                    fill_seconds = fill_to(database_url, rows, region)
                    run = asyncio.run(
                        open_loop(server.port, phones.real, rate=args.rate, seconds=args.seconds)
                    )
                    summary = run.summary()
                    figures.append(
                        {
                            "rows": rows,
                            "table_and_indexes_mb": table_megabytes(database_url),
                            "fill_seconds": round(fill_seconds, 1),
                            "p50_ms": summary["p50_ms"],
                            "p99_ms": summary["p99_ms"],
                            "uploads": summary["requests"],
                            "statuses": summary["statuses"],
                        }
                    )
            database = postgres_version(database_url)
    finally:
        rmtree(var_dir)

    first, last = figures[0], figures[-1]
    result = {
        "benchmark": "scaling",
        "uploads_per_second": args.rate,
        "seconds_per_size": args.seconds,
        "keys_per_upload": 14,
        "sizes": figures,
        "p50_growth": round(last["p50_ms"] / first["p50_ms"], 2) if first["p50_ms"] else None,
        "p99_growth": round(last["p99_ms"] / first["p99_ms"], 2) if first["p99_ms"] else None,
        "database": database,
        "machine": machine(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
