"""Server time of asking for a password-reset link, for an address that has an account and for
one that has none, in one process with no HTTP server; one JSON line.

Usage: DATABASE_URL=postgresql://... .venv/bin/python benchmarks/password_reset.py [--requests 500]

The page must not tell whether an address belongs to someone, by its content (tested in
tests/accounts/test_email.py) or by its time. Both kinds do the same lookup; a known address
also writes one cache key and publishes one task to the broker (the e-mail itself is the
worker's). Same settings as the other benchmarks (production mode, a scratch PostgreSQL
database, a private Redis as cache and Celery broker: the task is really published, and no
worker takes it). Known and unknown requests alternate, each known address is asked for once
(a second request within the interval sends nothing); the figures are wall-clock milliseconds
per request: median, 90th percentile and mean.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PrivateRedis, ScratchPostgres, machine, rmtree, server_environment


def setup(env: dict[str, str], people: int) -> None:
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "authority.settings"
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from authority.accounts.models import Region, Role, User

    call_command("migrate", verbosity=0)
    lazio = Region.objects.get(name="Lazio")
    password = make_password("a password nobody types here")  # hashed once, shared
    User.objects.bulk_create(
        User(
            username=f"person-{n}",
            email=f"person-{n}@asl.example.org",
            role=Role.OPERATOR,
            region=lazio,
            password=password,
        )
        for n in range(people)
    )


def measure(requests: int) -> dict[str, object]:
    from django.test import Client

    client = Client(HTTP_HOST="localhost")
    times: dict[str, list[float]] = {"known": [], "unknown": []}

    def ask(address: str) -> float:
        started = time.perf_counter()
        response = client.post("/accounts/password-reset/", {"email": address})
        elapsed = time.perf_counter() - started
        if response.status_code != 302:
            raise SystemExit(f"{response.status_code} {response.content[:300]!r}")
        return elapsed * 1000

    for n in range(20):  # warm up: imports, connections, templates
        ask(f"warm-{n}@nowhere.example.org")
    for n in range(requests):
        times["known"].append(ask(f"person-{n}@asl.example.org"))
        times["unknown"].append(ask(f"nobody-{n}@asl.example.org"))

    def summary(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {
            "p50_ms": round(statistics.median(ordered), 3),
            "p90_ms": round(ordered[int(len(ordered) * 0.9)], 3),
            "mean_ms": round(statistics.fmean(ordered), 3),
        }

    known, unknown = summary(times["known"]), summary(times["unknown"])
    return {
        "requests_each": requests,
        "known_address": known,
        "unknown_address": unknown,
        "median_ratio": round(known["p50_ms"] / unknown["p50_ms"], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="password-reset-"))
    scratch = ScratchPostgres(os.environ.get("DATABASE_URL", ""), "reset")
    try:
        with scratch as database_url, PrivateRedis() as redis_server:
            env = server_environment(database_url, redis_server.url, var_dir)
            env["CELERY_BROKER_URL"] = redis_server.url
            setup(env, args.requests)
            result = measure(args.requests)
            from django.db import connections

            connections.close_all()
    finally:
        rmtree(var_dir)
    print(json.dumps({"benchmark": "password_reset", **result, "machine": machine()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
