"""Checkpoints form one series: each names the one before it, and one is missing for no longer
than two intervals unless a key holder acknowledged why. Deleting checkpoints, to cut the
entries they recorded unseen, is a finding."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from authority.audit.chain import legacy_link
from authority.audit.models import Action, AuditEntry
from tests.audit.conftest import as_database_administrator, reset_head
from tests.audit.test_checkpoints import checkpoint_files
from tests.audit.test_tampering import insert

pytestmark = pytest.mark.django_db


def checkpoint_at(minutes: int, start) -> None:
    with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
        call_command("write_audit_checkpoint", stdout=None)


def test_each_checkpoint_names_the_signature_and_file_of_the_one_before(
    make_entries, checkpoint_dir: Path
):
    start = timezone.now()
    make_entries(2)
    checkpoint_at(0, start)
    checkpoint_at(15, start)

    first, second = (json.loads(path.read_text()) for path in checkpoint_files(checkpoint_dir))

    assert first["previous"] == ""
    assert second["previous"] == first["signature"]
    assert second["previous_name"] == str(
        checkpoint_files(checkpoint_dir)[0].relative_to(checkpoint_dir)
    )


def test_a_series_written_on_time_is_intact(make_entries, verify):
    start = timezone.now()
    make_entries(2)
    for minutes in (0, 15, 30, 45):
        checkpoint_at(minutes, start)

    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        result = verify()

    assert result.intact, result.output
    assert "4 checkpoints agree" in result.output


def test_a_checkpoint_deleted_from_the_middle_is_named_by_the_next(
    make_entries, verify, checkpoint_dir: Path
):
    start = timezone.now()
    make_entries(2)
    for minutes in (0, 10, 20):
        checkpoint_at(minutes, start)
    deleted = checkpoint_files(checkpoint_dir)[1]
    deleted.unlink()

    with time_machine.travel(start + timedelta(minutes=25), tick=False):
        result = verify()

    assert not result.intact
    name = str(deleted.relative_to(checkpoint_dir))
    assert f"follows the checkpoint {name}, which is no longer in the checkpoint storage" in (
        result.output
    )


def test_review_newest_checkpoints_deleted_then_the_trail_cut_is_a_finding(
    make_entries, verify, checkpoint_dir: Path
):
    # Ported from the security review (tests/audit/test_review_checkpoint_deletion.py): the
    # newest checkpoint is deleted (the review had retention do it; tests/keys show it no longer
    # can), the entries it recorded are cut and the head reset: the gap gives it away.
    start = timezone.now()
    entries = make_entries(3)
    checkpoint_at(0, start)  # records 3
    make_entries(4)
    checkpoint_at(15, start)  # records 7
    checkpoint_files(checkpoint_dir)[-1].unlink()
    third = AuditEntry.objects.get(pk=entries[2].pk)
    as_database_administrator(
        ("DELETE FROM audit_auditentry WHERE id > %s", [third.id]),
        reset_head(link=third.entry_hash, length=3, key_id=third.key_id),
    )
    checkpoint_at(45, start)  # the scheduler goes on: chained to the one of minute 0

    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        result = verify()

    assert not result.intact
    assert "No checkpoint between" in result.output
    assert "though one is written every 15 minutes: checkpoints were deleted" in result.output


def test_an_acknowledged_gap_is_in_the_trail_and_no_longer_a_finding(make_entries, verify):
    start = timezone.now()
    make_entries(2)
    checkpoint_at(0, start)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert not verify().intact  # beat was down for three hours

        call_command(
            "acknowledge_audit_checkpoint_gap",
            "--by=Maria Rossi",
            "--reason=Scheduler down during the database upgrade (ticket 4711)",
            stdout=None,
        )
        result = verify()

    assert result.intact, result.output
    acknowledgement = AuditEntry.objects.get(action=Action.AUDIT_GAP_ACKNOWLEDGED)
    assert acknowledgement.actor_username == "Maria Rossi"
    assert acknowledgement.target == "Scheduler down during the database upgrade (ticket 4711)"


def test_an_acknowledgement_excuses_only_the_gap_it_names(make_entries, verify):
    start = timezone.now()
    make_entries(2)
    checkpoint_at(0, start)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        call_command("acknowledge_audit_checkpoint_gap", "--by=a", "--reason=b", stdout=None)
    # A second gap, later, is a finding again.
    with time_machine.travel(start + timedelta(hours=6), tick=False):
        result = verify()

    assert not result.intact
    assert "No checkpoint since" in result.output


def test_no_gap_to_acknowledge_is_refused(make_entries):
    make_entries(1)
    call_command("write_audit_checkpoint", stdout=None)

    with pytest.raises(CommandError, match="followed by another within two intervals"):
        call_command("acknowledge_audit_checkpoint_gap", "--by=a", "--reason=b", stdout=None)

    assert not AuditEntry.objects.filter(action=Action.AUDIT_GAP_ACKNOWLEDGED).exists()


def test_a_gap_cannot_be_acknowledged_from_the_database(make_entries, verify):
    # An entry that only looks like an acknowledgement (plain SHA-256, no key) excuses nothing.
    start = timezone.now()
    entries = make_entries(2)
    checkpoint_at(0, start)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        newest = AuditEntry.objects.get(pk=entries[-1].pk)
        forged = AuditEntry(
            created_at=timezone.now(),
            action=Action.AUDIT_GAP_ACKNOWLEDGED,
            target="nothing to see",
            details={"after_checkpoint": "", "since": None, "until": timezone.now().isoformat()},
            previous_hash=newest.entry_hash,
            position=3,
            key_id="",
        )
        forged.entry_hash = legacy_link(forged.link_fields())
        as_database_administrator(insert(forged), reset_head(link=forged.entry_hash, length=3))
        result = verify()

    assert not result.intact
    assert "No checkpoint since" in result.output
