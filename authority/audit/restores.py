"""Acknowledging that the database was restored from a backup: the entries lost with it are
named in the trail, and the checkpoints that recorded them stop being findings."""

from __future__ import annotations

from django.utils import timezone

from authority.audit.checkpoints import read_checkpoints, write_checkpoint
from authority.audit.models import Action, AuditEntry
from authority.audit.services import record_event, trail_length


class NothingToAcknowledge(Exception):
    """No checkpoint records more of the trail than the restored database holds."""


def acknowledge_restore(
    *, reason: str, acknowledged_by: str, restored_length: int | None = None
) -> AuditEntry:
    """Append an entry, made with the audit key, saying that the trail was restored to its
    first `restored_length` entries (by default: what it holds now) and that the checkpoints
    taken so far beyond that recorded entries lost in the restore; then take a checkpoint.

    Only a holder of AUDIT_HMAC_KEY can do this, and it stays in the trail for every later
    verification to show: a database administrator cannot excuse a rollback."""
    length = trail_length()
    restored = length if restored_length is None else restored_length
    if not 0 <= restored <= length:
        raise ValueError(f"The trail holds {length} entries: it cannot be restored to {restored}")
    now = timezone.now()
    checkpoints, _unreadable = read_checkpoints()
    lost = [
        checkpoint
        for checkpoint in checkpoints
        if checkpoint.position > restored and checkpoint.taken_at <= now
    ]
    if not lost:
        raise NothingToAcknowledge(
            f"No checkpoint records more than the {restored} entries the trail was restored to."
        )
    furthest = max(lost, key=lambda checkpoint: checkpoint.position)
    entry = record_event(
        action=Action.AUDIT_RESTORE_ACKNOWLEDGED,
        actor_username=acknowledged_by,
        target=reason,
        details={
            "restored_length": restored,
            "checkpoints_superseded": len(lost),
            "lost_through": furthest.position,
            "newest_checkpoint": furthest.name,
        },
    )
    write_checkpoint()
    return entry
