"""Acknowledging a gap in the checkpoints (the scheduler or the sink was down): a key holder
says why in the trail, and the verification stops reporting that gap."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from authority.audit.checkpoints import interval_of, read_checkpoints, write_checkpoint
from authority.audit.models import Action, AuditEntry
from authority.audit.services import record_event


class NoGap(Exception):
    """No checkpoint is followed by a gap longer than two intervals (or none is named so)."""


def acknowledge_gap(*, reason: str, acknowledged_by: str, after: str | None = None) -> AuditEntry:
    """Append an entry, made with the audit key, saying why no checkpoint was written after
    checkpoint `after` (by default the newest: a gap up to now) until the next one; then take
    a checkpoint. A gap after any other checkpoint than the one named stays a finding.

    Only a holder of AUDIT_HMAC_KEY can do this, and it stays in the trail for every later
    verification to show: deleting checkpoints cannot be excused from the database."""
    now = timezone.now()
    checkpoints, _unreadable = read_checkpoints()
    ordered = sorted(checkpoints, key=lambda checkpoint: (checkpoint.taken_at, checkpoint.name))
    names = [checkpoint.name for checkpoint in ordered]
    if after is None:
        index = len(ordered) - 1
    elif after in names:
        index = names.index(after)
    else:
        raise NoGap(f"No checkpoint this server signed is named {after!r}.")
    if index < 0:
        start, name = None, ""
        interval = timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES)
    else:
        start, name, interval = ordered[index].taken_at, names[index], interval_of(ordered[index])
    following = ordered[index + 1] if index + 1 < len(ordered) else None
    until = following.taken_at if following is not None else now
    if start is not None and until - start <= 2 * interval:
        raise NoGap(f"The checkpoint {name} is followed by another within two intervals.")
    entry = record_event(
        action=Action.AUDIT_GAP_ACKNOWLEDGED,
        actor_username=acknowledged_by,
        target=reason,
        details={
            "after_checkpoint": name,
            "since": None if start is None else start.isoformat(),
            "until": until.isoformat(),
        },
    )
    write_checkpoint()
    return entry
