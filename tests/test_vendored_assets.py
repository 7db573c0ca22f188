"""The vendored front-end files are the ones static/vendor/SOURCES.md records, byte for byte,
and the test-only ones (axe-core) are not among the static files production serves."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from django.contrib.staticfiles import finders

from tests.settings.test_settings import PRODUCTION_ENV, run_manage

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "static" / "vendor" / "SOURCES.md"
# Where scripts/vendor_assets.sh puts what it vendors; every file there must be recorded.
VENDORED_DIRS = [ROOT / "static" / "vendor", ROOT / "tests" / "assets"]
AXE = "tests/assets/axe-core/axe.min.js"


def recorded() -> dict[str, str]:
    """SOURCES.md's `sha256sum` lines: {path from the repository root: SHA-256}."""
    lines = re.findall(r"(?m)^([0-9a-f]{64})  (\S+)$", SOURCES.read_text())
    return {path: digest for digest, path in lines}


def test_every_recorded_file_is_there_with_the_recorded_hash():
    records = recorded()
    # The three packages are all there (a truncated list would pass the loop below).
    assert "static/vendor/bootstrap-italia/js/bootstrap-italia.bundle.min.js" in records
    assert "static/vendor/plotly/plotly-finance.min.js" in records
    assert AXE in records
    changed = []
    for path, digest in records.items():
        file = ROOT / path
        assert file.is_file(), f"SOURCES.md lists {path}, which is missing"
        if hashlib.sha256(file.read_bytes()).hexdigest() != digest:
            changed.append(path)
    assert changed == [], (
        f"edited by hand or copied from another release: {changed} "
        "(re-vendor with scripts/vendor_assets.sh, which records the new hashes)"
    )


def test_every_vendored_file_is_recorded():
    records = recorded()
    on_disk = {
        file.relative_to(ROOT).as_posix()
        for directory in VENDORED_DIRS
        for file in directory.rglob("*")
        if file.is_file() and file != SOURCES
    }
    assert AXE in on_disk
    assert sorted(on_disk - set(records)) == [], "vendored files SOURCES.md does not record"


def test_axe_core_is_not_a_static_file():
    """Development's static files (what runserver and the tests' live server serve) lack it too:
    the browser tests hand it to the page themselves (tests/browser/conftest.py)."""
    assert (ROOT / AXE).is_file()
    assert finders.find("vendor/axe-core/axe.min.js") is None
    assert finders.find("vendor/bootstrap-italia/js/bootstrap-italia.bundle.min.js")


def test_production_collectstatic_gathers_no_test_asset(tmp_path):
    """WhiteNoise serves only what collectstatic put in STATIC_ROOT (it uses no finders when
    DEBUG is off), so a file collectstatic does not gather is a 404 in production."""
    result = run_manage(
        "collectstatic",
        "--dry-run",
        "--noinput",
        "--verbosity=2",
        **PRODUCTION_ENV,
        AUTHORITY_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    gathered = re.findall(r"Pretending to copy '([^']+)'", result.stdout)
    assert any(path.endswith("bootstrap-italia.bundle.min.js") for path in gathered)
    assert [path for path in gathered if "axe" in Path(path).name.lower()] == []
    assert [path for path in gathered if path.startswith(str(ROOT / "tests"))] == []
