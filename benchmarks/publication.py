"""End-to-end publication benchmark: keys in the database to signed zips in storage; one JSON line.

Usage: .venv/bin/python benchmarks/publication.py [--keys 100000|1000000]

Runs on a throwaway database: a temporary SQLite file by default, or, when DATABASE_URL is a
PostgreSQL URL, a scratch database created on that server (the role needs CREATEDB) and
dropped afterwards. Random keys are inserted (untimed), then one publication runs in a child
process, so its peak memory is the publication's own (plus Django), not the insertion's.
The in-memory baseline is benchmarks/gaen_baseline.py (one-shot mode) on as many keys.

With --settled the tables are vacuumed and analyzed after the insert (untimed), as autovacuum
would long have done for keys uploaded over an hour; without it the timed publication is the
first to read a million rows inserted seconds before, while autovacuum may be at them too.

`phases` splits the publication's seconds: claiming the keys (one transaction), writing the
files, publishing them (the final transaction); `process_cpu_seconds` is the publishing
process's own CPU time, the rest of the wall time being mostly the database's work.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INSERT_CHUNK = 10_000


def peak_memory_mb() -> float:
    """This process's peak resident memory. On Linux from VmHWM: ru_maxrss survives exec, so a
    child would report its parent's peak (the key insertion) instead of its own."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def setup_django(database_url: str, var_dir: Path) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["AUTHORITY_VAR_DIR"] = str(var_dir)
    os.environ["BATCH_STORAGE_DIR"] = str(var_dir / "batches")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
    import django

    django.setup()
    from django.conf import settings

    if settings.PRODUCTION:
        raise SystemExit("The benchmark never runs in production mode.")


def insert_keys(count: int, seed: int) -> float:
    """Insert `count` random keys due for publication; return the seconds it took."""
    from authority.accounts.models import Region
    from authority.keys.models import ExposureKey

    rng = random.Random(seed)
    regions = list(Region.objects.values_list("pk", flat=True))
    today = int(time.time()) // 600 // 144 * 144
    started = time.perf_counter()
    for first in range(0, count, INSERT_CHUNK):
        rows = []
        for _ in range(min(INSERT_CHUNK, count - first)):
            start = today - 144 * rng.randrange(1, 14)
            rows.append(
                ExposureKey(
                    key_data=rng.randbytes(16),
                    rolling_start_interval_number=start,
                    rolling_end_interval_number=start + 144,
                    days_since_onset_of_symptoms=rng.randrange(-14, 15),
                    region_id=rng.choice(regions),
                )
            )
        ExposureKey.objects.bulk_create(rows)
    return time.perf_counter() - started


def timed_phases() -> dict[str, float]:
    """Seconds spent in each phase of the publication, filled in as it runs (wrappers)."""
    from authority.keys.services import publication

    phases: dict[str, float] = {}

    def timing(name: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] = round(phases.get(name, 0) + time.perf_counter() - started, 3)

        return timed

    run = publication._Publication
    run._claim_keys = timing("claim", run._claim_keys)  # type: ignore[method-assign]
    run._write_file = timing("write", run._write_file)  # type: ignore[method-assign]
    publication.commit_publication = timing("commit", publication.commit_publication)
    return phases


def publish_child() -> None:
    """Child process: one publication, timed, then its figures as JSON."""
    from authority.keys.models import Batch, PublicationRun
    from authority.keys.services.publication import request_publication, run_publication

    phases = timed_phases()
    memory_before = peak_memory_mb()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    run = request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    run = run_publication(run_id=run.pk, worker="benchmark")
    seconds = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = cpu.ru_utime - cpu_before.ru_utime + cpu.ru_stime - cpu_before.ru_stime
    batches = list(Batch.objects.filter(run=run))
    print(
        json.dumps(
            {
                "status": run.status,
                "message": run.message,
                "seconds": seconds,
                "phases": phases,
                "process_cpu_seconds": round(cpu_seconds, 3),
                "files": len(batches),
                "keys_published": sum(batch.key_count for batch in batches),
                "padding_keys": sum(batch.padding_count for batch in batches),
                "zip_bytes": sum(batch.size for batch in batches),
                "peak_memory_mb": peak_memory_mb(),
                "peak_memory_before_publication_mb": memory_before,
            }
        )
    )


def verify_first_file() -> bool:
    from authority.keys.models import Batch
    from authority.keys.services.verification import verify_batch

    batch = Batch.objects.filter(status=Batch.Status.PUBLISHED).order_by("index").first()
    return batch is not None and verify_batch(batch=batch).ok


def baseline(keys: int) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gaen_baseline.py"), "--keys", str(keys)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        name: figures[name]
        for name in ("mode", "seconds", "keys_per_second", "peak_memory_mb", "zip_bytes", "files")
    }


class ScratchPostgres:
    """A database created for the run next to the one DATABASE_URL names, dropped after."""

    def __init__(self, url: str) -> None:
        self.admin_url = url
        self.name = f"authority_bench_{os.getpid()}"
        parts = urlsplit(url)
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))

    def __enter__(self) -> str:
        self._execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def __exit__(self, *exc: object) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000, help="number of keys (default 100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--publish-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--skip-baseline", action="store_true", help="do not run the baseline")
    parser.add_argument(
        "--settled", action="store_true", help="VACUUM ANALYZE after the insert (untimed)"
    )
    args = parser.parse_args()

    if args.publish_only:
        setup_django(os.environ["DATABASE_URL"], Path(os.environ["AUTHORITY_VAR_DIR"]))
        publish_child()
        return

    # First, while this process is still small: the baseline's ru_maxrss includes ours.
    in_memory = None if args.skip_baseline else baseline(args.keys)
    var_dir = Path(tempfile.mkdtemp(prefix="publication-benchmark-"))
    given = os.environ.get("DATABASE_URL", "")
    postgres = given.startswith(("postgres://", "postgresql://"))
    scratch = ScratchPostgres(given) if postgres else None
    try:
        database_url = scratch.__enter__() if scratch else f"sqlite:///{var_dir / 'bench.sqlite3'}"
        setup_django(database_url, var_dir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from authority.keys.services.signing_keys import rotate_signing_key

        rotate_signing_key(actor=None, reason="benchmark")
        insert_seconds = insert_keys(args.keys, args.seed)
        from django.db import connection, connections

        if args.settled:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE" if postgres else "ANALYZE")

        connections.close_all()
        child = subprocess.run(
            [sys.executable, __file__, "--publish-only"],
            env={**os.environ, "DATABASE_URL": database_url, "AUTHORITY_VAR_DIR": str(var_dir)},
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            raise SystemExit(child.stderr[-4000:])
        run = json.loads(child.stdout.strip().splitlines()[-1])
        verified = verify_first_file()
        connections.close_all()
        seconds = run["seconds"]
        print(
            json.dumps(
                {
                    "benchmark": "publication",
                    "database": "postgresql" if postgres else "sqlite",
                    "settled": args.settled,
                    "keys": args.keys,
                    "status": run["status"],
                    "files": run["files"],
                    "keys_published": run["keys_published"],
                    "padding_keys": run["padding_keys"],
                    "zip_bytes": run["zip_bytes"],
                    "seconds": round(seconds, 3),
                    "keys_per_second": round(args.keys / seconds) if seconds else None,
                    "phases": run["phases"],
                    "process_cpu_seconds": run["process_cpu_seconds"],
                    "peak_memory_mb": run["peak_memory_mb"],
                    "peak_memory_before_publication_mb": run["peak_memory_before_publication_mb"],
                    "insert_seconds": round(insert_seconds, 3),
                    "first_file_verified": verified,
                    "in_memory_baseline": in_memory,
                    "python": platform.python_version(),
                    "machine": platform.platform(),
                }
            )
        )
    finally:
        if scratch:
            from django.conf import settings

            if settings.configured:
                from django.db import connections

                connections.close_all()
            scratch.__exit__(None, None, None)
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
