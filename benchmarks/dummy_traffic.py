"""Are dummy requests indistinguishable from real ones on the wire? Response sizes, headers and
timing of real and dummy check-otp and upload requests over gunicorn; one JSON line.

Usage: DATABASE_URL=postgresql://... .venv/bin/python benchmarks/dummy_traffic.py
           [--samples 500] [--rate 40]

Same stack as benchmarks/upload.py (scratch PostgreSQL database, private Redis, gunicorn with
gunicorn.conf.py, production mode), with the production response delay (150 + uniform(0, 100)
ms). For each endpoint, --samples real and --samples dummy requests, shuffled together, arrive
at --rate per second (open loop). Real check-otp requests carry an authorized code, real
uploads a fresh code each and 14 keys; dummy ones carry a random bearer, same shape and size.

Reported per endpoint: the distinct response sizes and header sets of each kind (must be the
same single value), and the two-sample Kolmogorov-Smirnov test of their response times
(scipy.stats.ks_2samp): p > 0.05 means a network observer cannot tell them apart by timing.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import secrets
import sys
import tempfile
from hashlib import sha256
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    Gunicorn,
    PrivateRedis,
    ScratchPostgres,
    http_request,
    machine,
    open_loop,
    postgres_version,
    rmtree,
    server_environment,
)
from upload import Phones, setup_database

CHECK_OTP = "/v1/ingestion/check-otp"


def header_set(port: int, raw: bytes) -> tuple[int, str]:
    """Status and the headers of one answer, Date (a clock) left out."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    method, path, _ = lines[0].split(" ")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    # django-csp writes the directives in an order that varies between worker processes
    # (same bytes, other order): compare them sorted.
    kept = sorted(
        f"{k}: {'; '.join(sorted(v.split('; '))) if k.lower() == 'content-security-policy' else v}"
        for k, v in response.getheaders()
        if k.lower() != "date"
    )
    return response.status, "\n".join(kept)


def compare(run, kinds: tuple[str, str]) -> dict[str, object]:
    from scipy.stats import ks_2samp

    real = [s.seconds * 1000 for s in run.select(kinds[0])]
    dummy = [s.seconds * 1000 for s in run.select(kinds[1])]
    test = ks_2samp(real, dummy)
    return {
        "samples": [len(real), len(dummy)],
        "statuses": {kind: sorted({s.status for s in run.select(kind)}) for kind in kinds},
        "response_bytes": {
            kind: sorted({s.response_bytes for s in run.select(kind)}) for kind in kinds
        },
        "same_response_bytes": len({s.response_bytes for k in kinds for s in run.select(k)}) == 1,
        "median_ms": [
            round(sorted(real)[len(real) // 2], 1),
            round(sorted(dummy)[len(dummy) // 2], 1),
        ],
        "ks_statistic": round(float(test.statistic), 4),
        "ks_p_value": round(float(test.pvalue), 4),
        "indistinguishable": bool(test.pvalue > 0.05),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500, help="per kind and endpoint")
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="dummy-benchmark-"))
    scratch = ScratchPostgres(os.environ.get("DATABASE_URL", ""), "dummy")
    try:
        with scratch as database_url, PrivateRedis() as redis_server:
            env = server_environment(database_url, redis_server.url, var_dir)
            codes, _ = setup_database(env, args.samples + 2)
            checked_code = codes.pop()
            phones = Phones(codes, dummy_share=0.0, keys=14)
            check_bearer = sha256(checked_code.encode()).hexdigest()

            def check(dummy: bool) -> tuple[str, bytes]:
                headers = {
                    "Authorization": f"Bearer {secrets.token_hex(32) if dummy else check_bearer}",
                    "Immuni-Dummy-Data": "1" if dummy else "0",
                }
                body = json.dumps({"padding": "0" * 64}).encode()
                return ("check-dummy" if dummy else "check-real"), http_request(
                    CHECK_OTP, body, headers
                )

            def upload(dummy: bool) -> tuple[str, bytes]:
                kind, raw = phones.dummy() if dummy else phones.real()
                return f"upload-{kind}", raw

            plan = [(check, False), (check, True), (upload, False), (upload, True)]
            order = [item for item in plan for _ in range(args.samples)]
            random.Random(8).shuffle(order)
            requests = iter(order)

            def source() -> tuple[str, bytes]:
                make, dummy = next(requests)
                return make(dummy)

            with Gunicorn(env) as server:
                headers = {
                    "check-real": header_set(server.port, check(False)[1]),
                    "check-dummy": header_set(server.port, check(True)[1]),
                    "upload-dummy": header_set(server.port, upload(True)[1]),
                    "upload-real": header_set(server.port, upload(False)[1]),
                }
                run = asyncio.run(
                    open_loop(server.port, source, rate=args.rate, seconds=len(order) / args.rate)
                )
            database = postgres_version(database_url)
            from django.db import connections

            connections.close_all()
    finally:
        rmtree(var_dir)

    check_otp = compare(run, ("check-real", "check-dummy"))
    upload_ = compare(run, ("upload-real", "upload-dummy"))
    same_headers = {
        "check-otp": headers["check-real"] == headers["check-dummy"],
        "upload": headers["upload-real"] == headers["upload-dummy"],
    }
    result = {
        "benchmark": "dummy_traffic",
        "delay_ms": "150 + uniform(0, 100) (production default)",
        "rate_per_second": args.rate,
        "check_otp": {**check_otp, "same_status_and_headers": same_headers["check-otp"]},
        "upload": {**upload_, "same_status_and_headers": same_headers["upload"]},
        "headers_without_date": headers["upload-real"][1].split("\n"),
        "connection_errors": run.errors,
        "meets_target": all(
            [
                check_otp["indistinguishable"],
                upload_["indistinguishable"],
                *same_headers.values(),
                check_otp["same_response_bytes"],
                upload_["same_response_bytes"],
            ]
        ),
        "database": database,
        "machine": machine(),
        "load_seconds": round(len(order) / args.rate, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
