"""The two lock files agree with pyproject.toml and with each other, carry hashes, and name no
index or path of a particular machine; dev.py never takes a failed install for a finished one.

How the locks are made: docs/dependencies.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@dataclass
class Pin:
    version: str
    hashes: set[str] = field(default_factory=set)


def read_lock(path: Path) -> dict[str, Pin]:
    """The pins of a pip-compile lock; anything but a pin, its hashes and comments fails."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().rstrip("\\").strip()
        if not line:
            continue
        if line.startswith("--hash=sha256:") and current is not None:
            current.hashes.add(line.removeprefix("--hash=sha256:"))
            continue
        pin = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)", line)
        assert pin, f"{path.name}:{number}: not a pinned requirement or a hash: {raw!r}"
        current = pins[canonicalize_name(pin[1])] = Pin(pin[2])
    return pins


def declared(requirements: list[str]) -> dict[str, Requirement]:
    parsed = (Requirement(text) for text in requirements)
    return {canonicalize_name(requirement.name): requirement for requirement in parsed}


RUNTIME_DECLARED = declared(PYPROJECT["project"]["dependencies"])
DEV_DECLARED = declared(PYPROJECT["project"]["optional-dependencies"]["dev"])


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_a_lock_names_no_index_no_path_and_hashes_every_pin(lock):
    text = lock.read_text()
    for option in ("--index-url", "--extra-index-url", "--find-links", "--trusted-host", "-f "):
        assert option not in text, f"{lock.name} names a package source ({option})"
    assert "file:" not in text
    assert "/opt/" not in text
    assert not re.search(r"(?m)^\s*-e\s", text), "an editable install cannot be hashed"
    pins = read_lock(lock)
    assert len(pins) > 20
    unhashed = sorted(name for name, pin in pins.items() if not pin.hashes)
    assert unhashed == [], f"{lock.name}: no hash for {unhashed}"
    for pin in pins.values():
        assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in pin.hashes)


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [(RUNTIME_LOCK, RUNTIME_DECLARED), (DEV_LOCK, RUNTIME_DECLARED | DEV_DECLARED)],
    ids=["runtime", "dev"],
)
def test_every_declared_dependency_is_locked_at_a_version_it_accepts(lock, requirements):
    """A dependency added to pyproject.toml without re-running scripts/compile_locks.sh fails."""
    pins = read_lock(lock)
    for name, requirement in requirements.items():
        assert name in pins, f"{requirement} is in pyproject.toml but not in {lock.name}"
        assert requirement.specifier.contains(pins[name].version, prereleases=True), (
            f"{lock.name} pins {name}=={pins[name].version}, pyproject.toml asks {requirement}"
        )


def test_the_runtime_lock_holds_no_development_tool():
    runtime = read_lock(RUNTIME_LOCK)
    development_only = set(DEV_DECLARED) - set(RUNTIME_DECLARED)
    assert "pytest" in development_only
    assert sorted(development_only & set(runtime)) == []


def test_the_development_lock_pins_every_runtime_package_as_the_runtime_lock_does():
    """dev.lock is compiled under runtime.lock as a constraint: the tests run the versions
    production runs, and a venv made for the tests serves `dev.py run` unchanged."""
    runtime, development = read_lock(RUNTIME_LOCK), read_lock(DEV_LOCK)
    for name, pin in runtime.items():
        assert name in development, f"{name} is in runtime.lock but not in dev.lock"
        assert development[name].version == pin.version, name
        assert development[name].hashes == pin.hashes, name


# --- dev.py -----------------------------------------------------------------------------------


@pytest.fixture
def dev(tmp_path, monkeypatch) -> ModuleType:
    """dev.py with its record of installed locks and its two locks in a temporary folder.

    Each lock names a wheel that does not exist, so pip, whenever dev.py runs it, fails at once
    (no network, nothing installed): a failure shows that dev.py ran pip. The venv's python is
    the one running the tests."""
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("runtime", "dev"):
        lock = tmp_path / f"{name}.lock"
        lock.write_text(f"{tmp_path / name}-1.0-py3-none-any.whl --hash=sha256:{'0' * 64}\n")
        monkeypatch.setattr(module, f"{name.upper()}_LOCK", lock)
    monkeypatch.setattr(module, "PYTHON", Path(sys.executable))
    monkeypatch.setattr(module, "STAMP", tmp_path / "installed.json")
    return module


def record(script: ModuleType, *, runtime: str, dev: str | None) -> None:
    """What dev.py writes after an install succeeded."""
    script.STAMP.write_text(json.dumps({"runtime": runtime, "dev": dev}))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dev_py_installs_nothing_while_the_locks_it_installed_are_unchanged(dev):
    record(dev, runtime=sha256(dev.RUNTIME_LOCK), dev=sha256(dev.DEV_LOCK))
    dev.ensure_environment(development=True)
    dev.ensure_environment(development=False)  # a venv made for the tests serves `run`
    assert json.loads(dev.STAMP.read_text())["dev"] == sha256(dev.DEV_LOCK)


def test_dev_py_reinstalls_when_a_lock_changed_and_a_failed_install_is_not_marked_done(dev):
    record(dev, runtime=sha256(dev.RUNTIME_LOCK), dev=sha256(dev.DEV_LOCK))
    dev.DEV_LOCK.write_text(dev.DEV_LOCK.read_text() + "# a new pin would change the digest\n")
    with pytest.raises(subprocess.CalledProcessError):
        dev.ensure_environment(development=True)
    assert not dev.STAMP.exists(), "a failed install must leave no record of success"
    with pytest.raises(subprocess.CalledProcessError):  # so the next call tries again
        dev.ensure_environment(development=True)


def test_dev_py_run_reinstalls_when_the_runtime_lock_changed(dev):
    record(dev, runtime="digest-of-an-older-runtime-lock", dev=sha256(dev.DEV_LOCK))
    with pytest.raises(subprocess.CalledProcessError):
        dev.ensure_environment(development=False)
    assert not dev.STAMP.exists()


def test_dev_py_test_installs_the_development_lock_over_a_venv_made_by_run(dev):
    record(dev, runtime=sha256(dev.RUNTIME_LOCK), dev=None)
    dev.ensure_environment(development=False)
    with pytest.raises(subprocess.CalledProcessError):
        dev.ensure_environment(development=True)
    assert not dev.STAMP.exists()
