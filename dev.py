#!/usr/bin/env python3
"""The README's two commands: `python3 dev.py run` (the whole system) and `python3 dev.py test`.

Needs only Python 3.11 and pip: the first call makes `.venv`. `run` installs the runtime lock
(requirements/runtime.lock), `test` the development lock (requirements/dev.lock: the same pins
plus the test and lint tools); both are installed with their hashes checked, and again whenever
a lock file changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"
# What the last complete install put in .venv: {"runtime": sha256 of runtime.lock, "dev":
# sha256 of dev.lock or null}. Written only after pip succeeded, removed before pip starts, so
# an interrupted install is never taken for a finished one.
STAMP = VENV / ".installed-locks.json"


def _digest(lock: Path) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def _installed() -> dict[str, str | None]:
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _usable_venv() -> bool:
    """A venv whose creation was cut short has a python but no pip: make it again."""
    if not PYTHON.exists():
        return False
    probe = [str(PYTHON), "-m", "pip", "--version"]
    return subprocess.run(probe, capture_output=True).returncode == 0


def ensure_environment(*, development: bool) -> None:
    """Install the runtime lock (for `run`) or the development lock (for `test`) into .venv,
    unless the same lock, unchanged, is already installed there.

    The development lock pins every runtime package at the runtime lock's version (it is
    compiled under that constraint, and tests/test_dependency_locks.py checks it), so a venv
    made for the tests also serves `run` as long as the runtime lock has not changed since.
    """
    wanted = {"runtime": _digest(RUNTIME_LOCK), "dev": _digest(DEV_LOCK) if development else None}
    installed = _installed()
    up_to_date = installed.get("runtime") == wanted["runtime"] and (
        not development or installed.get("dev") == wanted["dev"]
    )
    if up_to_date and _usable_venv():
        return
    if not _usable_venv():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    lock = DEV_LOCK if development else RUNTIME_LOCK
    print(
        f"Installing {os.path.relpath(lock, ROOT)} (first run, or the lock changed) ...", flush=True
    )
    STAMP.unlink(missing_ok=True)
    install = [str(PYTHON), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(lock)]
    subprocess.run(install, check=True)
    _remove_unlocked_packages()
    STAMP.write_text(json.dumps(wanted))


def _locked_names(lock: Path) -> set[str]:
    names = set()
    for line in lock.read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            names.add(_normalise(line.split("==", 1)[0]))
    return names


def _normalise(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _remove_unlocked_packages() -> None:
    """Uninstall what neither lock pins any more (a dependency the project dropped), so the venv
    is what the locks say. pip's own tools stay, and so does the development set in a venv
    that `run` reuses: it is locked too."""
    keep = _locked_names(DEV_LOCK) | _locked_names(RUNTIME_LOCK) | {"pip", "setuptools", "wheel"}
    listing = subprocess.run(
        [str(PYTHON), "-m", "pip", "list", "--format=json"],
        check=True,
        capture_output=True,
        text=True,
    )
    stale = sorted(
        package["name"]
        for package in json.loads(listing.stdout)
        if _normalise(package["name"]) not in keep
    )
    if stale:
        print(f"Removing packages no lock pins: {', '.join(stale)}", flush=True)
        subprocess.run([str(PYTHON), "-m", "pip", "uninstall", "--yes", *stale], check=True)


def manage(*args: str) -> None:
    subprocess.run([str(PYTHON), str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def run(port: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
    manage("migrate", "--noinput", "-v", "0")
    manage("createcachetable")
    manage("seed_demo")
    manage("acknowledge_development_pause")
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
    command = [str(PYTHON), "-m", "pytest", *_parallel(pytest_args), *pytest_args]
    # Compiled modules and pytest's rewritten test modules are kept in __pycache__ (ignored by
    # git) even where the environment says PYTHONDONTWRITEBYTECODE, as container images often
    # do: without them every worker of every run compiles the project and rewrites each test
    # module again, about 12 s of CPU per worker before the first test.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(command, cwd=ROOT, env=environment).returncode


def _parallel(pytest_args: list[str]) -> list[str]:
    """One pytest-xdist worker per CPU this process may use, each with its own test database
    (test_<name>_gw0, ...). A -n of the caller's wins: `-n 0` runs in one process (e.g. to
    debug with --pdb). Work goes to whichever worker is free (worksteal): a few tests take far
    longer than the rest."""
    for arg in pytest_args:
        if arg.startswith(("-n", "--numprocesses", "--dist")) or arg in ("no:xdist", "-pno:xdist"):
            return []
        if arg in ("--version", "-V", "-h", "--help"):
            return []
    workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return ["-n", str(workers or 1), "--dist", "worksteal"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser(
        "run", help="start web server, Celery worker and beat with demo data"
    )
    run_parser.add_argument("--port", type=int, default=8000)
    sub.add_parser("test", help="run the test suite (extra arguments go to pytest)")
    args, extra = parser.parse_known_args()
    ensure_environment(development=args.command == "test")
    if args.command == "run":
        return run(args.port)
    return test(extra)


if __name__ == "__main__":
    sys.exit(main())
