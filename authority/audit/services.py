"""Writing to the audit trail (checking it: verification.py; checkpoints: checkpoints.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from authority.audit.chain import GENESIS_LINK, LEGACY_KEY_ID, Keyring
from authority.audit.models import Action, AuditChainHead, AuditEntry

if TYPE_CHECKING:
    from authority.accounts.models import Region, User


def current_keyring() -> Keyring:
    """AUDIT_HMAC_KEY and its fallbacks, as the settings have them now."""
    return _keyring(settings.AUDIT_HMAC_KEY, tuple(settings.AUDIT_HMAC_KEY_FALLBACKS))


@lru_cache(maxsize=4)
def _keyring(current: str, fallbacks: tuple[str, ...]) -> Keyring:
    return Keyring(current, fallbacks)


def trail_length() -> int:
    """How many entries the trail holds: the newest entry's position."""
    newest = AuditEntry.objects.order_by("-id").first()
    return 0 if newest is None else position_of(newest)


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
    key = current_keyring().current
    with transaction.atomic():
        head = _locked_head()
        if head.length and head.key_id != key.key_id:
            # The first entry under a new key says so, in the trail people read: the chain is
            # keyed from here (after an upgrade), or a rotation took effect.
            _append(
                head,
                action=Action.AUDIT_KEY_CHANGED,
                details={"previous_key": head.key_id or "sha256", "key": key.key_id},
            )
        entry = _append(
            head,
            action=action,
            actor=actor,
            actor_username=actor.username if actor is not None else actor_username,
            region=region,
            target=target[:200],
            details=details or {},
        )
        head.save(update_fields=["last_hash", "length", "key_id"])
    return entry


def _append(head: AuditChainHead, *, action: Action, **fields: Any) -> AuditEntry:
    key = current_keyring().current
    position = _next_position(head)
    entry = AuditEntry(
        created_at=timezone.now(),
        action=action,
        previous_hash=head.last_hash,
        position=position,
        key_id=key.key_id,
        **fields,
    )
    entry.entry_hash = key.link(entry.link_fields())
    entry.save()
    head.last_hash, head.length, head.key_id = entry.entry_hash, position, key.key_id
    return entry


def _next_position(head: AuditChainHead) -> int:
    """One after the entry the head names. Usually that is the newest entry (one query by
    primary key). When the entry the head names is gone (newest entries deleted) the head's
    length keeps the gap visible; a head reset to an older entry must not make the next
    position one already taken, which would stop every audited action."""
    newest = AuditEntry.objects.order_by("-id").first()
    if newest is None:
        return head.length + 1
    if newest.entry_hash == head.last_hash:
        return position_of(newest) + 1
    previous = AuditEntry.objects.filter(entry_hash=head.last_hash).first()
    candidate = head.length + 1 if previous is None else position_of(previous) + 1
    taken = AuditEntry.objects.aggregate(highest=Max("position"))["highest"] or 0
    return max(candidate, taken + 1)


def position_of(entry: AuditEntry) -> int:
    """Where an entry stands in the chain. Entries from before the chain was keyed have no
    stored position, nor have those a process of the previous release still writes during an
    upgrade (it moves only the head's link): they are counted from the newest entry before
    them that has one."""
    if entry.position is not None:
        return entry.position
    counted_from = (
        AuditEntry.objects.filter(id__lt=entry.id, position__isnull=False).order_by("-id").first()
    )
    since = AuditEntry.objects.filter(id__lte=entry.id)
    if counted_from is None:
        return since.count()
    return (counted_from.position or 0) + since.filter(id__gt=counted_from.id).count()


def _locked_head() -> AuditChainHead:
    """The head row, locked until the transaction ends. A missing head (never written, or
    deleted) is rebuilt from the newest entry rather than restarting the chain."""
    head, created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    if created:
        newest = AuditEntry.objects.order_by("-id").first()
        if newest is not None:
            head.last_hash = newest.entry_hash
            head.length = position_of(newest)
            head.key_id = newest.key_id
        else:
            head.last_hash, head.length, head.key_id = GENESIS_LINK, 0, LEGACY_KEY_ID
    return head
