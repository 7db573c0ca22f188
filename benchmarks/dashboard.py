"""Server time of the statistics dashboard with two years of history for every region, and the
sustained rate of the apps' operational-info endpoint; prints one JSON line.

Usage: .venv/bin/python benchmarks/dashboard.py [--days 730] [--seconds 5] [--redis URL]

Runs on a fresh SQLite database in a temporary folder (or on DATABASE_URL when it is set: the
benchmark then adds its counters to that database, so point it at a scratch one). The history
comes from `seed_demo_history` (all 21 regions, national counters too). Timings are taken
in-process with Django's test client, around the whole request: middleware, queries,
template. Chart caches are off, so every chart (and every download) is built from the
counters.

The operational-info rate is measured the same way, in one thread, with the device API's
response delay switched off (DEVICE_API_MIN_RESPONSE_MS=0): in production every answer is held
150-250 ms on purpose, which bounds a worker thread, not the CPU. Each report carries a new
salt, so each one counts (four or five counter upserts and a cache entry).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from base64 import b64encode
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure(args: argparse.Namespace) -> None:
    os.environ.setdefault("AUTHORITY_VAR_DIR", tempfile.mkdtemp(prefix="dashboard-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
    os.environ["DEVICE_API_MIN_RESPONSE_MS"] = "0"
    os.environ["DEVICE_API_RESPONSE_SPREAD_MS"] = "0"
    os.environ["DEVICE_API_ANALYTICS_RATE"] = "100000000/minute"
    os.environ["DASHBOARD_CACHE_SECONDS"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    if args.redis:
        os.environ["REDIS_URL"] = args.redis
        os.environ["STATISTICS_REDIS_PREFIX"] = f"benchmark:{secrets.token_hex(4)}"


def timed(call, repeat: int) -> list[float]:
    call()  # warm-up: templates, URL resolvers, connections
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max": round(ordered[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seconds", type=float, default=5.0, help="operational-info run time")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--redis", default="", help="Redis URL: cache and buffered counters")
    args = parser.parse_args()
    configure(args)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from authority.accounts.models import Region, Role, User
    from authority.dashboard.charts import CHARTS
    from authority.statistics.models import DailyCounter
    from authority.statistics.services import local_day

    settings.ALLOWED_HOSTS = ["testserver"]
    if args.redis:
        settings.CACHES["default"]["KEY_PREFIX"] = settings.STATISTICS_REDIS_PREFIX
    call_command("migrate", verbosity=0)
    if "db.DatabaseCache" in settings.CACHES["default"]["BACKEND"]:
        call_command("createcachetable", verbosity=0)

    def signed_in(username: str, role: str, region: Region | None) -> Client:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"role": role, "region": region}
        )
        device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
            user=user, name="bench", confirmed=True
        )
        client = Client()
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    lazio = Region.objects.get(name="Lazio")
    admin = signed_in("bench-admin", Role.ADMINISTRATOR, None)
    supervisor = signed_in("bench-supervisor", Role.SUPERVISOR, lazio)
    signed_in("bench-operator", Role.OPERATOR, lazio)

    started = time.perf_counter()
    call_command("seed_demo_history", days=args.days, replace=True, stdout=io.StringIO())
    seed_seconds = time.perf_counter() - started

    today = local_day()
    two_years = f"since={today.replace(year=today.year - 2)}&until={today}"

    def page(client: Client, query: str = "") -> None:
        response = client.get(f"/statistics/?{query}")
        assert response.status_code == 200, response.status_code

    overview_default = timed(lambda: page(admin), args.repeat)
    overview_two_years = timed(lambda: page(admin, two_years), args.repeat)
    overview_supervisor = timed(lambda: page(supervisor, two_years), args.repeat)

    chart_times = {}
    for chart in CHARTS:
        query = two_years + ("&region=12" if chart.slug == "operators" else "")

        def get(slug: str = chart.slug, query: str = query) -> None:
            response = admin.get(f"/statistics/charts/{slug}/?{query}")
            assert response.status_code == 200, (slug, response.status_code)

        chart_times[chart.slug] = statistics.median(timed(get, max(3, args.repeat // 4)))

    # Downloads withhold small counts with the open data's decisions: they read every area's
    # counters over the period (docs/statistics.md).
    export_times = {}
    for chart in CHARTS:
        query = two_years + ("&region=12" if chart.slug == "operators" else "")

        def download(slug: str = chart.slug, query: str = query) -> None:
            response = admin.get(f"/statistics/charts/{slug}/data.json?{query}")
            assert response.status_code == 200, (slug, response.status_code)

        export_times[chart.slug] = statistics.median(timed(download, 3))

    # --- Operational info ------------------------------------------------------------------
    phone = Client()
    signed_attestation = "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl"

    def report() -> None:
        body = {
            "province": "RM",
            "exposure_permission": 1,
            "bluetooth_active": 1,
            "notification_permission": 1,
            "exposure_notification": 0,
            "last_risky_exposure_on": date.today().isoformat(),
            "salt": b64encode(secrets.token_bytes(16)).decode(),
            "signed_attestation": signed_attestation,
        }
        response = phone.post(
            "/v1/analytics/google/operational-info",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_IMMUNI_DUMMY_DATA="0",
        )
        assert response.status_code == 204, response.content

    report()
    requests = 0
    started = time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        report()
        requests += 1
    elapsed = time.perf_counter() - started

    flushed = 0
    if settings.STATISTICS_BUFFERED:
        from authority.statistics import buffer

        flushed = buffer.flush().counters  # what the beat task would do
    if args.redis:
        # Leave the Redis as found: only this run's cache entries (throttle, once-a-month).
        import redis

        connection = redis.Redis.from_url(args.redis)
        for key in connection.scan_iter(match=f"{settings.STATISTICS_REDIS_PREFIX}*"):
            connection.delete(key)

    overview = summary(overview_default)
    result = {
        "benchmark": "dashboard",
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "statistics_buffered": settings.STATISTICS_BUFFERED,
        "history_days": args.days,
        "regions": Region.objects.count(),
        "counter_rows": DailyCounter.objects.count(),
        "seed_seconds": round(seed_seconds, 1),
        "overview_ms": overview,
        "overview_range_days": settings.DASHBOARD_DEFAULT_DAYS,
        "overview_two_years_ms": summary(overview_two_years),
        "overview_two_years_supervisor_ms": summary(overview_supervisor),
        "target_overview_ms": 150,
        "meets_target": max(overview["p95"], summary(overview_two_years)["p95"]) < 150,
        "charts_two_years_uncached_ms": {k: round(v, 1) for k, v in chart_times.items()},
        "charts_two_years_uncached_total_ms": round(sum(chart_times.values()), 1),
        "downloads_two_years_uncached_ms": {k: round(v, 1) for k, v in export_times.items()},
        "operational_info_requests_per_second": round(requests / elapsed, 1),
        "operational_info_requests": requests,
        "buffered_counters_flushed": flushed,
        "operational_info_method": (
            "in-process django.test.Client, one thread, response delay off"
            " (DEVICE_API_MIN_RESPONSE_MS=0); every report counted"
        ),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} x{os.cpu_count()}",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
