"""After a real restore from a backup, a holder of the audit key acknowledges it: the lost
entries are named in the trail and the checkpoints that recorded them stop being findings."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from authority.audit.models import Action, AuditChainHead, AuditEntry
from tests.audit.conftest import as_database_administrator, reset_head

pytestmark = pytest.mark.django_db


def restore_backup_of_first(count: int) -> None:
    """What restoring a backup taken when the trail had `count` entries leaves."""
    kept = AuditEntry.objects.order_by("id")[count - 1]
    as_database_administrator(
        ("DELETE FROM audit_auditentry WHERE id > %s", [kept.id]),
        reset_head(link=kept.entry_hash, length=count, key_id=kept.key_id),
    )


def test_an_acknowledged_restore_is_in_the_trail_and_no_longer_a_finding(make_entries, verify):
    make_entries(3)
    call_command("write_audit_checkpoint")
    make_entries(4)
    call_command("write_audit_checkpoint")
    restore_backup_of_first(3)
    assert not verify().intact

    call_command(
        "acknowledge_audit_restore",
        "--by",
        "Maria Rossi (security officer)",
        "--reason",
        "disk failure, restored from the 02:00 backup",
        stdout=None,
    )

    acknowledgement = AuditEntry.objects.get(action=Action.AUDIT_RESTORE_ACKNOWLEDGED)
    assert acknowledgement.position == 4
    assert acknowledgement.actor_username == "Maria Rossi (security officer)"
    assert acknowledgement.details["restored_length"] == 3
    assert acknowledgement.details["lost_through"] == 7
    result = verify()
    assert result.intact, result.output
    # New entries take the positions the lost ones had; the old checkpoints do not object.
    make_entries(5)
    assert verify().intact


def test_nothing_to_acknowledge_is_refused(make_entries):
    make_entries(2)
    call_command("write_audit_checkpoint")

    with pytest.raises(CommandError, match="No checkpoint records more than the 2 entries"):
        call_command("acknowledge_audit_restore", "--by", "x", "--reason", "y")
    assert not AuditEntry.objects.filter(action=Action.AUDIT_RESTORE_ACKNOWLEDGED).exists()


def test_a_rollback_after_the_acknowledgement_is_found_again(make_entries, verify):
    make_entries(3)
    call_command("write_audit_checkpoint")
    make_entries(2)
    call_command("write_audit_checkpoint")
    restore_backup_of_first(3)
    call_command("acknowledge_audit_restore", "--by", "x", "--reason", "y", stdout=None)
    make_entries(3)
    call_command("write_audit_checkpoint")

    restore_backup_of_first(5)

    result = verify()
    assert not result.intact
    assert "The trail ends at entry #5, but the checkpoint of" in result.output
    assert AuditChainHead.objects.get().length == 5
