"""Checking the audit trail: every link under the audit keys, the head, and every checkpoint.

The trail is intact only when each entry's link is the one its key makes of its content, each
entry links to the one before it, the positions run without a gap, no entry was made with a key
the chain had already moved past, the head agrees with the newest entry, and the chain agrees
with every signed checkpoint outside the database. Anything else is a finding, named with the
entry's position and id; the findings are listed oldest first (docs/audit-trail.md says what
each means and what to do).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import Storage
from django.utils import timezone
from django.utils.translation import gettext

from authority.audit.chain import GENESIS_LINK, Keyring, legacy_link, links_match
from authority.audit.checkpoints import Checkpoint, UnreadableCheckpoint, read_checkpoints
from authority.audit.models import Action, AuditChainHead, AuditEntry
from authority.audit.services import current_keyring
from authority.l10n import moments

logger = logging.getLogger(__name__)

# A thorough edit (every later entry re-hashed) would otherwise list the whole trail.
MAX_FINDINGS = 50
# The newest result, for the audit page (administrators).
CACHE_KEY = "audit:verification"
CACHE_SECONDS = 60 * 60 * 24 * 8


class Kind(StrEnum):
    EDITED = "edited"
    INSERTED = "inserted"
    NOT_AUTHENTIC = "not_authentic"
    UNKNOWN_KEY = "unknown_key"
    RETIRED_KEY = "retired_key"
    MISSING = "missing"
    OUT_OF_PLACE = "out_of_place"
    UNLINKED = "unlinked"
    TAIL_REMOVED = "tail_removed"
    HEAD_MISMATCH = "head_mismatch"
    EMPTIED = "emptied"
    BEHIND_CHECKPOINT = "behind_checkpoint"
    REWRITTEN = "rewritten"
    BAD_CHECKPOINT = "bad_checkpoint"
    CHECKPOINTS_UNAVAILABLE = "checkpoints_unavailable"
    # Not a finding: checkpoints are not being written.
    STALE_CHECKPOINTS = "stale_checkpoints"


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the trail. `describe()` words it in the active language."""

    kind: Kind
    position: int | None = None
    entry_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        values = {"position": self.position, "id": self.entry_id, **self.params}
        if "reason" in values:
            values["reason"] = _REASONS[values["reason"]]()
        if self.kind is Kind.RETIRED_KEY and values["key"] == "":
            return _unkeyed_after_keyed() % values
        if self.kind is Kind.MISSING and values["first"] == values["last"]:
            return _one_missing() % values
        return _MESSAGES[self.kind]() % values

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "position": self.position,
            "entry_id": self.entry_id,
            "params": self.params,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(Kind(data["kind"]), data["position"], data["entry_id"], data["params"])


# Functions, so each message is translated when it is shown, in the reader's language.
def _unkeyed_after_keyed() -> str:
    return gettext(
        "Entry #%(position)s (id %(id)s) was written without a key (plain SHA-256) after the "
        "chain moved to key %(newer)s at entry #%(since)s: it was added or rewritten by someone "
        "without the audit key."
    )


def _one_missing() -> str:
    return gettext(
        "Entry #%(first)s was removed: entry #%(position)s (id %(id)s) follows entry #%(before)s."
    )


_MESSAGES = {
    Kind.EDITED: lambda: gettext(
        "Entry #%(position)s (id %(id)s) was changed after it was written: its content no "
        "longer matches its link."
    ),
    Kind.INSERTED: lambda: gettext(
        "Entry #%(position)s (id %(id)s) was inserted by someone without the audit key: its "
        "link is not one the key makes, and the chain goes around it."
    ),
    Kind.NOT_AUTHENTIC: lambda: gettext(
        "Entry #%(position)s (id %(id)s), the newest, was added or changed by someone without "
        "the audit key: its link is not one the key makes."
    ),
    Kind.UNKNOWN_KEY: lambda: gettext(
        "Entry #%(position)s (id %(id)s) names audit key %(key)s, which is not configured: it "
        "was forged, or AUDIT_HMAC_KEY_FALLBACKS lacks a retired key."
    ),
    Kind.RETIRED_KEY: lambda: gettext(
        "Entry #%(position)s (id %(id)s) was written with %(key)s after the chain moved to key "
        "%(newer)s at entry #%(since)s: it was added or rewritten by someone holding a retired "
        "key."
    ),
    Kind.MISSING: lambda: gettext(
        "Entries #%(first)s to #%(last)s were removed: entry #%(position)s (id %(id)s) follows "
        "entry #%(before)s."
    ),
    Kind.OUT_OF_PLACE: lambda: gettext(
        "Entry #%(position)s (id %(id)s) stands where entry #%(expected)s should: entries were "
        "copied, reordered or added."
    ),
    Kind.UNLINKED: lambda: gettext(
        "Entry #%(position)s (id %(id)s) does not link to the entry before it: entries before "
        "it were removed or replaced."
    ),
    Kind.TAIL_REMOVED: lambda: gettext(
        "The trail ends at entry #%(last)s, but the head records %(length)s entries: the newest "
        "entries were removed."
    ),
    Kind.HEAD_MISMATCH: lambda: gettext(
        "The chain's head does not match the newest entry (#%(last)s): the head was reset or "
        "edited."
    ),
    Kind.EMPTIED: lambda: gettext(
        "The trail is empty, but the checkpoint of %(time)s recorded %(recorded)s entries: the "
        "table was emptied (TRUNCATE) or replaced by an empty copy."
    ),
    Kind.BEHIND_CHECKPOINT: lambda: gettext(
        "The trail ends at entry #%(last)s, but the checkpoint of %(time)s recorded "
        "%(recorded)s entries: the newest entries were removed, or the database was restored "
        "from an older copy (a rollback)."
    ),
    Kind.REWRITTEN: lambda: gettext(
        "Entry #%(position)s is not the one the checkpoint of %(time)s recorded: the trail was "
        "rewritten (emptied or cut, then written again) from there on."
    ),
    Kind.BAD_CHECKPOINT: lambda: gettext(
        "The checkpoint file %(name)s is not one this server signed (%(reason)s): someone "
        "wrote to the checkpoint storage."
    ),
    Kind.CHECKPOINTS_UNAVAILABLE: lambda: gettext(
        "The checkpoint storage could not be read (%(error)s): the trail could not be held "
        "against its checkpoints."
    ),
    Kind.STALE_CHECKPOINTS: lambda: gettext(
        "No checkpoint since %(time)s although the trail grew: check that the scheduler (Celery "
        "beat) runs and the checkpoint storage accepts writes."
    ),
}


@dataclass(frozen=True)
class TrailReport:
    """The outcome of one verification. Intact means no finding at all."""

    checked_at: datetime
    entries: int
    legacy_entries: int
    keyed_from: int | None
    checkpoints: int
    newest_checkpoint_at: datetime | None
    newest_checkpoint_position: int | None
    findings: list[Finding]
    more_findings: int = 0
    warnings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "entries": self.entries,
            "legacy_entries": self.legacy_entries,
            "keyed_from": self.keyed_from,
            "checkpoints": self.checkpoints,
            "newest_checkpoint_at": self.newest_checkpoint_at.isoformat()
            if self.newest_checkpoint_at
            else None,
            "newest_checkpoint_position": self.newest_checkpoint_position,
            "findings": [finding.as_dict() for finding in self.findings],
            "more_findings": self.more_findings,
            "warnings": [warning.as_dict() for warning in self.warnings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrailReport:
        newest = data["newest_checkpoint_at"]
        return cls(
            checked_at=datetime.fromisoformat(data["checked_at"]),
            entries=data["entries"],
            legacy_entries=data["legacy_entries"],
            keyed_from=data["keyed_from"],
            checkpoints=data["checkpoints"],
            newest_checkpoint_at=datetime.fromisoformat(newest) if newest else None,
            newest_checkpoint_position=data["newest_checkpoint_position"],
            findings=[Finding.from_dict(item) for item in data["findings"]],
            more_findings=data["more_findings"],
            warnings=[Finding.from_dict(item) for item in data["warnings"]],
        )


def verify_trail(
    *, keyring: Keyring | None = None, storage: Storage | None = None, now: datetime | None = None
) -> TrailReport:
    """Walk the whole chain oldest first, then hold it against the head and the checkpoints.
    The result is also kept for the audit page."""
    keyring = keyring or current_keyring()
    now = now or timezone.now()
    unavailable: list[Finding] = []
    try:
        checkpoints, unreadable = read_checkpoints(keyring=keyring, storage=storage)
    except Exception as exc:  # any storage backend's error: the check must still report
        checkpoints, unreadable = [], []
        unavailable = [Finding(Kind.CHECKPOINTS_UNAVAILABLE, params={"error": type(exc).__name__})]
    # Read before the entries: whatever is appended while the walk runs lies beyond it.
    head = AuditChainHead.objects.filter(pk=1).first()
    walk = _Walk(
        keyring=keyring,
        head=head,
        checkpoints=checkpoints,
        rollover=timedelta(minutes=settings.AUDIT_KEY_ROLLOVER_MINUTES),
    )
    entries = AuditEntry.objects.order_by("id").iterator(chunk_size=2000)
    for entry, following in _with_next(entries):
        walk.step(entry, following)
    walk.check_head(head)
    walk.check_checkpoints(checkpoints, unreadable)
    walk.findings.extend(unavailable)
    newest = max(checkpoints, key=lambda checkpoint: checkpoint.taken_at, default=None)
    report = TrailReport(
        checked_at=now,
        entries=walk.length,
        legacy_entries=walk.legacy_entries,
        keyed_from=walk.keyed_from,
        checkpoints=len(checkpoints),
        newest_checkpoint_at=newest.taken_at if newest else None,
        newest_checkpoint_position=newest.position if newest else None,
        findings=walk.findings[:MAX_FINDINGS],
        more_findings=max(0, len(walk.findings) - MAX_FINDINGS),
        warnings=_staleness(newest, walk, now),
    )
    cache.set(CACHE_KEY, report.as_dict(), CACHE_SECONDS)
    if not report.intact:
        logger.error(
            "The audit trail is not intact: %d finding(s), the first: %s",
            len(walk.findings),
            report.findings[0].describe(),
        )
    return report


def latest_report() -> TrailReport | None:
    """The newest verification's result (scheduled, or `manage.py verify_audit_chain`)."""
    data = cache.get(CACHE_KEY)
    if not data:
        return None
    try:
        return TrailReport.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


def _with_next(entries: Iterable[AuditEntry]) -> Iterator[tuple[AuditEntry, AuditEntry | None]]:
    """Each entry with the one after it: whether the chain goes around an entry tells an
    inserted entry from an edited one."""
    iterator = iter(entries)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, following
        current = following


def _staleness(newest: Checkpoint | None, walk: _Walk, now: datetime) -> list[Finding]:
    """Checkpoints that stopped are no sign of tampering, but they stop protecting the newest
    entries: said as a warning."""
    allowed = timedelta(minutes=2 * settings.AUDIT_CHECKPOINT_MINUTES)
    if walk.length == 0 or (newest is not None and newest.position >= walk.length):
        return []
    since = newest.taken_at if newest is not None else walk.first_keyed_at
    if since is None or now - since <= allowed:
        return []
    return [Finding(Kind.STALE_CHECKPOINTS, params={"time": _when(since)})]


def _when(moment: datetime) -> str:
    # Numeric, so that it reads the same whichever language the check ran in.
    return moments.short_datetime(moment, seconds=True, zone=True)


class _Walk:
    """The chain so far: its length, its newest link, which keys it has used, and what is
    wrong with it."""

    def __init__(
        self,
        *,
        keyring: Keyring,
        head: AuditChainHead | None,
        checkpoints: list[Checkpoint],
        rollover: timedelta,
    ) -> None:
        self.keyring = keyring
        self.head_link = head.last_hash if head is not None else GENESIS_LINK
        self.rollover = rollover
        self.length = 0
        self.last_link = GENESIS_LINK
        self.last_time: datetime | None = None
        self.legacy_entries = 0
        self.keyed_from: int | None = None
        self.first_keyed_at: datetime | None = None
        self.findings: list[Finding] = []
        # Each key the chain used, with the position and time of its first entry; dicts keep
        # that order, and the newest key is the last one the chain moved to.
        self.key_order: dict[str, tuple[int, datetime]] = {}
        self.newest_key: str | None = None
        # (time, restored length) of each authentic acknowledgement of a restore.
        self.restores: list[tuple[datetime, int]] = []
        # The links at the positions the checkpoints and the head recorded.
        self.wanted = {checkpoint.position for checkpoint in checkpoints}
        if head is not None:
            self.wanted.add(head.length)
        self.checkpointed_links = {checkpoint.link for checkpoint in checkpoints}
        self.links_at: dict[int, str] = {0: GENESIS_LINK}

    def step(self, entry: AuditEntry, following: AuditEntry | None) -> None:
        expected = self.length + 1
        position = entry.position if entry.is_keyed and entry.position else expected
        authentic, known_key = self._authentic(entry)
        if not authentic:
            chain_goes_around = (
                following.previous_hash if following is not None else self.head_link
            ) == self.last_link
            if chain_goes_around:
                self._find(Kind.INSERTED, entry, position)
                return  # the next entry is checked against the one before this
            if not known_key:
                self._find(Kind.UNKNOWN_KEY, entry, position, key=entry.key_id)
            elif following is not None or entry.entry_hash in self.checkpointed_links:
                self._find(Kind.EDITED, entry, position)
            else:
                self._find(Kind.NOT_AUTHENTIC, entry, position)
            # Whatever it claims, it stands at the next place of the chain.
            position = expected
        if entry.previous_hash != self.last_link and not (authentic and position > expected):
            if authentic and entry.is_keyed and position < expected:
                self._find(Kind.OUT_OF_PLACE, entry, position, expected=expected)
            else:
                self._find(Kind.UNLINKED, entry, position)
        elif position > expected:
            # Linked or not, an authentic position past the next one says how many are gone.
            self._find(
                Kind.MISSING,
                entry,
                position,
                first=expected,
                last=position - 1,
                before=expected - 1,
            )
        elif position < expected:
            self._find(Kind.OUT_OF_PLACE, entry, position, expected=expected)
        if authentic:
            self._check_key_order(entry, position)
            if entry.action == Action.AUDIT_RESTORE_ACKNOWLEDGED and entry.is_keyed:
                self.restores.append(
                    (entry.created_at, int(entry.details.get("restored_length", 0)))
                )
        self.length = max(position, self.length)
        self.last_link = entry.entry_hash
        self.last_time = entry.created_at
        if position in self.wanted:
            self.links_at.setdefault(position, entry.entry_hash)
        if entry.is_keyed:
            if self.keyed_from is None:
                self.keyed_from, self.first_keyed_at = position, entry.created_at
        else:
            self.legacy_entries += 1

    def _authentic(self, entry: AuditEntry) -> tuple[bool, bool]:
        if not entry.is_keyed:
            return links_match(legacy_link(entry.link_fields()), entry.entry_hash), True
        key = self.keyring.get(entry.key_id)
        if key is None:
            return False, False
        return links_match(key.link(entry.link_fields()), entry.entry_hash), True

    def _check_key_order(self, entry: AuditEntry, position: int) -> None:
        """Keys only move forward: no key at all (SHA-256) comes before every key, then each
        key in the order the chain first used it. An entry under one the chain has moved past
        (the retired key a rotation meant to stop, or none at all) is accepted only from
        processes still restarting, within AUDIT_KEY_ROLLOVER_MINUTES of the switch."""
        key_id = entry.key_id
        if not entry.is_keyed:
            if self.newest_key is None:
                return
            newer = next(iter(self.key_order))
            since, switched_at = self.key_order[newer]
        elif key_id not in self.key_order:
            self.key_order[key_id] = (position, entry.created_at)
            self.newest_key = key_id
            return
        elif key_id == self.newest_key:
            return
        else:
            newer = key_id if self.newest_key is None else self.newest_key
            since, switched_at = self.key_order[newer]
        in_rollover = entry.created_at - switched_at <= self.rollover and (
            self.last_time is None or entry.created_at >= self.last_time - self.rollover
        )
        if not in_rollover:
            self._find(
                Kind.RETIRED_KEY,
                entry,
                position,
                key=key_id,
                newer=newer,
                since=since,
            )

    def check_head(self, head: AuditChainHead | None) -> None:
        if head is None:
            if self.length:
                self.findings.append(Finding(Kind.HEAD_MISMATCH, params={"last": self.length}))
            return
        if head.last_hash == self.last_link:
            return
        if head.length < self.length and self.links_at.get(head.length) == head.last_hash:
            return  # entries were appended while the walk ran
        if head.length > self.length and not self._head_link_present(head):
            self.findings.append(
                Finding(Kind.TAIL_REMOVED, params={"last": self.length, "length": head.length})
            )
        else:
            self.findings.append(Finding(Kind.HEAD_MISMATCH, params={"last": self.length}))

    @staticmethod
    def _head_link_present(head: AuditChainHead) -> bool:
        return AuditEntry.objects.filter(entry_hash=head.last_hash).exists()

    def check_checkpoints(
        self, checkpoints: list[Checkpoint], unreadable: list[UnreadableCheckpoint]
    ) -> None:
        for bad in unreadable:
            self.findings.append(
                Finding(
                    Kind.BAD_CHECKPOINT,
                    params={"name": bad.name, "reason": bad.reason},
                )
            )

        def superseded(checkpoint: Checkpoint) -> bool:
            """Declared lost by a key holder in a restore (`acknowledge_audit_restore`): taken
            before the acknowledgement, beyond the length the trail was restored to."""
            return any(
                checkpoint.taken_at <= acknowledged_at and checkpoint.position > restored_length
                for acknowledged_at, restored_length in self.restores
            )

        ahead = [
            checkpoint
            for checkpoint in checkpoints
            if checkpoint.position > self.length and not superseded(checkpoint)
        ]
        if ahead:
            # The one that recorded the most says best how much is missing.
            furthest = max(ahead, key=lambda checkpoint: (checkpoint.position, checkpoint.taken_at))
            params = {"time": _when(furthest.taken_at), "recorded": furthest.position}
            if self.length == 0:
                self.findings.append(Finding(Kind.EMPTIED, params=params))
            else:
                self.findings.append(
                    Finding(Kind.BEHIND_CHECKPOINT, params={**params, "last": self.length})
                )
        disagreeing = [
            checkpoint
            for checkpoint in checkpoints
            if checkpoint.position <= self.length
            and not superseded(checkpoint)
            and self.links_at.get(checkpoint.position) != checkpoint.link
        ]
        if disagreeing:
            first = min(disagreeing, key=lambda checkpoint: checkpoint.position)
            self.findings.append(
                Finding(
                    Kind.REWRITTEN,
                    position=first.position,
                    params={"time": _when(first.taken_at)},
                )
            )

    def _find(self, kind: Kind, entry: AuditEntry, position: int, **params: Any) -> None:
        self.findings.append(Finding(kind, position, entry.id, params))


_REASONS = {
    "malformed": lambda: gettext("malformed"),
    "unreadable": lambda: gettext("unreadable"),
    "unknown_key": lambda: gettext("signed with a key that is not configured"),
    "bad_signature": lambda: gettext("its signature does not match"),
}
