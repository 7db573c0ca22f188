"""Signed checkpoints of the chain's head, written outside the database by a beat task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.storage import storages
from django.utils import timezone

from authority.audit.chain import AuditKey
from authority.audit.checkpoints import read_checkpoints
from tasks.audit import write_checkpoint
from tests.audit.conftest import KEY

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def checkpoint_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json"))


def test_the_task_writes_the_heads_position_and_link_signed(make_entries, checkpoint_dir):
    entries = make_entries(3)

    write_checkpoint.delay()

    [path] = checkpoint_files(checkpoint_dir)
    document = json.loads(path.read_text())
    assert document["position"] == 3
    assert document["link"] == entries[-1].entry_hash
    assert document["entry_id"] == entries[-1].id
    assert document["format"] == "authority-audit-checkpoint/2"
    # The first of its series: chained to no checkpoint before it.
    assert document["previous"] == ""
    assert document["previous_name"] == ""
    assert document["interval_minutes"] == 15
    key = AuditKey.from_secret(KEY)
    assert document["key"] == key.key_id
    signature = document.pop("signature")
    assert signature == key.sign(document)
    # Named by day and time, so that the newest sorts last.
    assert path.parent.name == timezone.now().strftime("%Y-%m-%d")
    assert path.name.endswith("-p000000000003.json")


def test_an_empty_trail_gets_a_checkpoint_at_position_zero(checkpoint_dir):
    write_checkpoint.delay()

    [path] = checkpoint_files(checkpoint_dir)
    assert json.loads(path.read_text())["position"] == 0


def test_checkpoints_go_to_the_batch_storage_unless_a_sink_is_configured(
    settings, tmp_path, make_entries
):
    settings.STORAGES = {
        **settings.STORAGES,
        "batches": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "batches")},
        },
    }
    settings.AUDIT_CHECKPOINT_STORAGE = "batches"
    make_entries(1)

    write_checkpoint.delay()

    [path] = checkpoint_files(tmp_path / "batches")
    # In a folder of its own: the batch retention only ever deletes top-level .zip files.
    assert path.relative_to(tmp_path / "batches").parts[0] == "audit-checkpoints"
    assert storages["batches"].listdir("")[1] == []


def test_the_beat_schedule_writes_them_every_audit_checkpoint_minutes():
    env = {
        **os.environ,
        "AUDIT_CHECKPOINT_MINUTES": "7",
        "DJANGO_SETTINGS_MODULE": "authority.settings",
    }
    script = (
        "import django; django.setup(); from tasks.celery import app; "
        "s = app.conf.beat_schedule; "
        "print(s['audit-checkpoint']['task'], s['audit-checkpoint']['schedule'], "
        "s['verify-audit-trail']['task'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "tasks.audit.write_checkpoint",
        "420.0",
        "tasks.audit.verify_trail",
    ]


def test_a_checkpoint_file_written_by_someone_else_is_named(make_entries, checkpoint_dir, verify):
    make_entries(2)
    write_checkpoint.delay()
    [path] = checkpoint_files(checkpoint_dir)
    document = json.loads(path.read_text())
    document["position"] = 1
    (path.parent / "000000.000000Z-p000000000001.json").write_text(json.dumps(document))
    (path.parent / "notes.json").write_text("not a checkpoint")

    result = verify()

    assert not result.intact
    assert "-p000000000001.json is not one this server signed (its signature does not match)" in (
        result.output
    )
    assert "notes.json is not one this server signed (unreadable)" in result.output


def test_a_checkpoint_signed_with_a_retired_key_still_counts(settings, make_entries, verify):
    make_entries(2)
    write_checkpoint.delay()
    settings.AUDIT_HMAC_KEY = "the-next-audit-key-0123456789abcdef"
    settings.AUDIT_HMAC_KEY_FALLBACKS = [KEY]

    checkpoints, unreadable = read_checkpoints()

    assert [checkpoint.position for checkpoint in checkpoints] == [2]
    assert unreadable == []
    assert verify().intact


def test_checkpoints_that_stopped_are_a_finding(settings, make_entries, verify):
    # Deleting the newest checkpoints, to cut the entries they recorded, looks just the same.
    settings.AUDIT_CHECKPOINT_MINUTES = 15
    make_entries(2)
    write_checkpoint.delay()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        make_entries(1)

        result = verify()

    assert not result.intact
    assert "No checkpoint since" in result.output
    assert "though one is written every 15 minutes: the newest checkpoints were deleted" in (
        result.output
    )


def test_checkpoints_keeping_up_give_no_warning(make_entries, verify):
    make_entries(2)
    write_checkpoint.delay()
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        make_entries(1)

        result = verify()

    assert result.intact
    assert "Warning" not in result.output


def test_an_unreadable_checkpoint_storage_fails_the_verification(
    settings, tmp_path, make_entries, verify
):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_checkpoints": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocked)},
        },
    }
    make_entries(2)

    result = verify()

    assert not result.intact
    assert (
        "The checkpoint storage could not be read (NotADirectoryError): the trail could not be "
        "held against its checkpoints." in result.output
    )
