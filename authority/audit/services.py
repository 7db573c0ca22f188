"""Writing to and checking the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from authority.audit.models import GENESIS_HASH, Action, AuditChainHead, AuditEntry

if TYPE_CHECKING:
    from authority.accounts.models import Region, User


def record_event(
    *,
    action: Action,
    actor: User | None = None,
    actor_username: str = "",
    region: Region | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry, chained to the previous one. Never pass an OTP, IP or device id here."""
    if actor is not None and region is None:
        region = actor.region
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            created_at=timezone.now(),
            actor=actor,
            actor_username=actor.username if actor is not None else actor_username,
            action=action,
            region=region,
            target=target[:200],
            details=details or {},
            previous_hash=head.last_hash,
        )
        entry.entry_hash = entry.compute_hash()
        entry.save()
        head.last_hash = entry.entry_hash
        head.save(update_fields=["last_hash"])
    return entry


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return not self.problem


def verify_chain() -> ChainReport:
    """Walk the chain oldest first; report the first entry whose hash or link does not hold."""
    expected_previous = GENESIS_HASH
    checked = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.previous_hash != expected_previous:
            return ChainReport(checked, entry.id, "does not link to the entry before it")
        if entry.compute_hash() != entry.entry_hash:
            return ChainReport(checked, entry.id, "its content does not match its hash")
        expected_previous = entry.entry_hash
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != expected_previous:
        return ChainReport(checked, None, "entries after the last one checked were removed")
    return ChainReport(checked)
