"""The keyed audit trail: the cost of appending an entry, of a checkpoint, and of verifying the
whole trail against every checkpoint; prints one JSON line.

Usage: .venv/bin/python benchmarks/audit_trail.py [--entries 20000] [--checkpoints 1000]

Runs on a fresh SQLite database in a temporary folder, or, when DATABASE_URL names a
PostgreSQL server, on a scratch database created next to it and dropped after (the role needs
CREATEDB). Entries are appended one by one through `record_event` (each in its own
transaction, as the application does), checkpoints written through `write_checkpoint` to a
local folder, then `verify_trail` reads them all back and walks the chain. In-process, no HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import ScratchPostgres, machine, postgres_version  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--checkpoints", type=int, default=1_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="audit-bench-"))
    url = os.environ.get("DATABASE_URL", "")
    scratch = ScratchPostgres(url, "audit") if url.startswith("postgres") else nullcontext(None)
    with scratch as scratch_url:
        if scratch_url:
            os.environ["DATABASE_URL"] = scratch_url
        os.environ.update(
            {
                "AUTHORITY_VAR_DIR": str(folder / "var"),
                "DJANGO_SETTINGS_MODULE": "authority.settings",
                "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
                "AUDIT_CHECKPOINT_DIR": str(folder / "checkpoints"),
                "LOG_LEVEL": "WARNING",
            }
        )
        result = run(args)
        result["database"] = postgres_version(scratch_url) if scratch_url else "SQLite"
        result["machine"] = machine()
        print(json.dumps(result))
    return 0


def run(args: argparse.Namespace) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable")  # the latest result goes to the (database) cache
    from authority.audit.checkpoints import write_checkpoint
    from authority.audit.models import Action
    from authority.audit.services import record_event
    from authority.audit.verification import verify_trail

    appends = []
    for n in range(args.entries):
        started = time.perf_counter()
        record_event(action=Action.LOGIN, actor_username=f"user-{n % 500}", details={"n": n})
        appends.append((time.perf_counter() - started) * 1000)
    writes = []
    for _ in range(args.checkpoints):
        started = time.perf_counter()
        write_checkpoint()
        writes.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    report = verify_trail()
    verification = time.perf_counter() - started
    assert report.intact, [finding.describe() for finding in report.findings]
    ordered = sorted(appends)
    return {
        "benchmark": "audit_trail",
        "entries": args.entries,
        "checkpoints": args.checkpoints,
        "append_ms_median": round(statistics.median(ordered), 3),
        "append_ms_p95": round(ordered[int(len(ordered) * 0.95) - 1], 3),
        "checkpoint_write_ms_median": round(statistics.median(writes), 3),
        "verify_seconds": round(verification, 2),
        "verify_entries_per_second": round(args.entries / verification),
    }


if __name__ == "__main__":
    raise SystemExit(main())
