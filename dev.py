#!/usr/bin/env python3
"""The README's two commands: `python3 dev.py run` (the whole system) and `python3 dev.py test`.

Needs only Python 3.11 and pip: the first call makes `.venv` from requirements.lock.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".requirements.sha256"


def ensure_environment() -> None:
    """Create or refresh the virtual environment when the lock file changed."""
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == digest:
        return
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing the pinned dependencies (first run only) ...", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-r", str(LOCK)], check=True)
    STAMP.write_text(digest)


def manage(*args: str) -> None:
    subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def run(port: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
    manage("migrate", "--noinput", "-v", "0")
    manage("createcachetable")
    manage("seed_demo")
    manage("ensure_broker_folders")
    celery = [str(VENV / "bin" / "celery"), "-A", "tasks"]
    var = ROOT / "var"
    processes = [
        subprocess.Popen(
            [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "-n", "worker@%h"], cwd=ROOT
        ),
        subprocess.Popen(
            [*celery, "beat", "--loglevel=INFO", "--schedule", str(var / "celerybeat-schedule")],
            cwd=ROOT,
        ),
        subprocess.Popen(
            [str(PYTHON), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT
        ),
    ]
    time.sleep(2)
    print(
        f"""
  The authority dashboard is running at  http://127.0.0.1:{port}/
  Celery worker and beat are running on the embedded broker (var/broker/).
  E-mails (invitations, password resets, lockout notices) are written to var/mail/.

  Demo accounts (password for all: see below), each enrols an authenticator app at first login:
    admin              national administrator (also the Django admin at /admin/)
    supervisor-lazio   supervisor, Lazio
    operator-lazio     operator, Lazio
    operator-lombardia operator, Lombardia
  Password: demo-password-not-for-production

  No authenticator app at hand? The enrolment page shows the secret; then
    .venv/bin/python manage.py totp_code SECRET
  prints the current code (development mode only).

  Press Ctrl-C to stop everything.
""",
        flush=True,
    )

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    stop()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    return 0


def test(pytest_args: list[str]) -> int:
    return subprocess.run([str(PYTHON), "-m", "pytest", *pytest_args], cwd=ROOT).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser(
        "run", help="start web server, Celery worker and beat with demo data"
    )
    run_parser.add_argument("--port", type=int, default=8000)
    sub.add_parser("test", help="run the test suite (extra arguments go to pytest)")
    args, extra = parser.parse_known_args()
    ensure_environment()
    if args.command == "run":
        return run(args.port)
    return test(extra)


if __name__ == "__main__":
    sys.exit(main())
