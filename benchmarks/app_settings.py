"""GET /v1/settings over gunicorn and PostgreSQL: requests per second next to the trivial
endpoint of the same stack; one JSON line.

Usage: DATABASE_URL=postgresql://... .venv/bin/python benchmarks/app_settings.py
           [--seconds 10] [--rounds 5] [--concurrency 32] [--overrides 3] [--requests 3000]

Same stack as benchmarks/operational_info.py (scratch database, private Redis, gunicorn with
gunicorn.conf.py in production mode). The settings in force are Immuni's defaults (the data
migration) plus `--overrides` build overrides, so the answer depends on the build as it does
in production. Phones of both platforms and random builds ask in a closed loop, then the
trivial endpoint, alternating in `--rounds` rounds that add up to --seconds each (on a shared
machine the load drifts: alternating keeps the drift out of the ratio). Every answer is
checked: 200 and the full document. Target: at least 80% of the trivial endpoint's rate (it is
a cached read).

Then, in this process and without HTTP (as benchmarks/request_cost.py), the CPU time of one
settings request and of one trivial request, --requests times each, and the database queries
the settings requests made (none is the design).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    TRIVIAL,
    Gunicorn,
    PrivateRedis,
    Run,
    ScratchPostgres,
    closed_loop,
    machine,
    postgres_version,
    rmtree,
    server_environment,
)
from upload import setup_database

TARGET = 0.8


def settings_request() -> tuple[str, bytes]:
    platform = random.choice(("android", "ios"))
    build = random.randint(1, 3000)
    raw = (
        f"GET /v1/settings?platform={platform}&build={build} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nAccept: application/json\r\nAccept-Language: it-IT\r\n\r\n"
    ).encode()
    return "settings", raw


def add_overrides(count: int) -> None:
    """Build overrides on both platforms, published as the pages publish them."""
    from django.db import connections

    from authority.accounts.models import Role, User
    from authority.appconfig import selectors, services

    administrator = User.objects.create(username="bench-admin", role=Role.ADMINISTRATOR)
    for platform in ("android", "ios"):
        content, revision = services.draft_content(platform)
        overrides = [
            {
                "from_build": 500 * (n + 1),
                "to_build": None,
                # A smaller packet needs a smaller cap on exposure details (validation).
                "values": {"teks_packet_size": 100_000 - n, "teks_max_info_count": 500},
            }
            for n in range(count)
        ]
        draft = services.save_draft(
            platform=platform,
            actor=administrator,
            content=services.Content(content.document, overrides, content.newest_build),
            revision=revision,
        )
        services.publish_draft(
            platform=platform,
            actor=administrator,
            revision=draft.revision,
            in_force_number=selectors.version_in_force(platform).number,
        )
    connections.close_all()


def check_answers(port: int) -> int:
    """One request per platform over a plain socket: the document is all there."""
    import socket

    size = 0
    for platform in ("android", "ios"):
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.sendall(
                f"GET /v1/settings?platform={platform}&build=1200 HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        assert b"public, max-age=3600" in head
        document = json.loads(body)
        assert "exposure_configuration" in document and document["teks_packet_size"] < 110_000
        size = max(size, len(body))
    return size


def alternate(port: int, args: argparse.Namespace) -> tuple[Run, Run]:
    """Settings and trivial requests in alternating closed-loop rounds, summed per kind."""
    totals = {"settings": Run(seconds=0.0), "trivial": Run(seconds=0.0)}
    sources = {"settings": settings_request, "trivial": lambda: TRIVIAL}
    for _ in range(args.rounds):
        for kind, source in sources.items():
            run = asyncio.run(
                closed_loop(
                    port,
                    source,
                    concurrency=args.concurrency,
                    seconds=args.seconds / args.rounds,
                )
            )
            totals[kind].seconds += run.seconds
            totals[kind].samples.extend(run.samples)
            totals[kind].errors += run.errors
    return totals["settings"], totals["trivial"]


def in_process_cost(requests: int) -> dict[str, object]:
    """CPU milliseconds of one request of each kind through Django's test client, and the
    queries the settings requests made."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    from django.conf import settings as django_settings

    django_settings.ROOT_URLCONF = "bench_urls"
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")

    def ask_settings() -> None:
        _kind, raw = settings_request()
        path = raw.split(b" ")[1].decode()
        assert client.get(path).status_code == 200

    def ask_trivial() -> None:
        assert (
            client.post("/bench/trivial", b"{}", content_type="application/json").status_code == 204
        )

    result: dict[str, object] = {}
    for name, ask in (("settings", ask_settings), ("trivial", ask_trivial)):
        for _ in range(50):
            ask()  # warm up (the settings' copy is built here)
        with CaptureQueriesContext(connection) as queries:
            started = time.thread_time()
            for _ in range(requests):
                ask()
            cpu = time.thread_time() - started
        result[f"{name}_cpu_ms"] = round(cpu / requests * 1000, 3)
        if name == "settings":
            result["settings_queries"] = len(queries)
    result["cpu_ratio_settings_to_trivial"] = round(
        result["settings_cpu_ms"] / result["trivial_cpu_ms"],
        2,  # type: ignore[operator]
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--overrides", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="app-settings-benchmark-"))
    scratch = ScratchPostgres(os.environ.get("DATABASE_URL", ""), "settings")
    try:
        with scratch as database_url, PrivateRedis() as redis_server:
            env = server_environment(database_url, redis_server.url, var_dir)
            setup_database(env, 0)
            add_overrides(args.overrides)
            with Gunicorn(env) as server:
                body_bytes = check_answers(server.port)
                settings, trivial = alternate(server.port, args)
            cost = in_process_cost(args.requests)
            database = postgres_version(database_url)
    finally:
        rmtree(var_dir)

    ratio = (len(settings.samples) / settings.seconds) / (len(trivial.samples) / trivial.seconds)
    result = {
        "benchmark": "app_settings",
        "gunicorn_workers_x_threads": server.workers,
        "concurrency": args.concurrency,
        "build_overrides_per_platform": args.overrides,
        "document_bytes": body_bytes,
        "settings": settings.summary(),
        "trivial": trivial.summary(),
        "ratio_to_trivial": round(ratio, 3),
        "target_ratio": TARGET,
        "meets_target": ratio >= TARGET,
        "connection_errors": settings.errors + trivial.errors,
        "in_process": cost,
        "database": database,
        "machine": machine(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
