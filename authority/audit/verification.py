"""Checking the audit trail: every link under the audit keys, the head, and every checkpoint.

The trail is intact only when each entry's link is the one its key makes of its content, each
entry links to the one before it, the positions run without a gap, no entry was made with a key
the chain had already moved past, the head agrees with the newest entry, and the chain agrees
with every signed checkpoint outside the database. Anything else is a finding, named with the
entry's position and id; the findings are listed oldest first (docs/audit-trail.md says what
each means and what to do). The checkpoints must also form one unbroken series: each names the
one before it, and none is missing for longer than two intervals unless a key holder said why.

Whatever the rows hold, the verification reports rather than crashes: an entry it cannot check
is a finding, and an error that stops it is cached and logged as a failed verification, so the
audit page never keeps showing an older "intact".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import Storage
from django.utils import timezone
from django.utils.translation import gettext

from authority.audit.chain import GENESIS_LINK, Keyring, legacy_link, links_match
from authority.audit.checkpoints import (
    Checkpoint,
    CheckpointAlarm,
    UnreadableCheckpoint,
    interval_of,
    latest_alarm,
    read_checkpoints,
)
from authority.audit.models import Action, AuditChainHead, AuditEntry
from authority.audit.services import current_keyring
from authority.l10n import moments

logger = logging.getLogger(__name__)

# A thorough edit (every later entry re-hashed) would otherwise list the whole trail.
MAX_FINDINGS = 50
# The newest result, for the audit page (administrators).
CACHE_KEY = "audit:verification"
CACHE_SECONDS = 60 * 60 * 24 * 8
# The check runs nightly: a result older than this means it stopped running (or was killed).
REPORT_OUTDATED_AFTER = timedelta(hours=26)
# No entry of this application was written before this, nor more than a day ahead of its clock.
EARLIEST_PLAUSIBLE = datetime(2020, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)


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
    STALE_CHECKPOINTS = "stale_checkpoints"
    DAMAGED = "damaged"
    IMPLAUSIBLE_TIME = "implausible_time"
    CHECKPOINT_MISSING = "checkpoint_missing"
    CHECKPOINT_UNCHAINED = "checkpoint_unchained"
    CHECKPOINT_GAP = "checkpoint_gap"
    VERIFICATION_FAILED = "verification_failed"


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the trail. `describe()` words it in the active language."""

    kind: Kind
    position: int | None = None
    entry_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        values = {"position": self.position, "id": self.entry_id, **self.params}
        # A cached report from the release before a message gained a value.
        values.setdefault("minutes", settings.AUDIT_CHECKPOINT_MINUTES)
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
        "No checkpoint since %(time)s, though one is written every %(minutes)s minutes: the "
        "newest checkpoints were deleted, or the scheduler (Celery beat) or the checkpoint "
        "storage stopped. Once explained: manage.py acknowledge_audit_checkpoint_gap."
    ),
    Kind.DAMAGED: lambda: gettext(
        "Entry #%(position)s (id %(id)s) could not be checked (%(error)s): it holds values the "
        "application never writes, so it was written in the database."
    ),
    Kind.IMPLAUSIBLE_TIME: lambda: gettext(
        "Entry #%(position)s (id %(id)s) is dated %(time)s, a time this server never gives: it "
        "was added or rewritten in the database."
    ),
    Kind.CHECKPOINT_MISSING: lambda: gettext(
        "The checkpoint %(name)s follows the checkpoint %(previous)s, which is no longer in the "
        "checkpoint storage: checkpoints were deleted."
    ),
    Kind.CHECKPOINT_UNCHAINED: lambda: gettext(
        "The checkpoint %(name)s starts a new series although older checkpoints are in the "
        "storage: they were hidden or removed when it was written."
    ),
    Kind.CHECKPOINT_GAP: lambda: gettext(
        "No checkpoint between %(start)s and %(end)s, though one is written every %(minutes)s "
        "minutes: checkpoints were deleted (which hides a cut of the trail), or the scheduler or "
        "the checkpoint storage stopped. Once explained: manage.py "
        "acknowledge_audit_checkpoint_gap --after %(name)s."
    ),
    Kind.VERIFICATION_FAILED: lambda: gettext(
        "The verification stopped on an error (%(error)s): the trail's integrity is unknown. "
        "The error is in the log of authority.audit.verification."
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

    @property
    def failed(self) -> bool:
        """The verification stopped on an error: nothing is known either way."""
        return any(finding.kind is Kind.VERIFICATION_FAILED for finding in self.findings)

    @property
    def outdated(self) -> bool:
        """Older than a nightly check leaves it: the check has stopped running."""
        return timezone.now() - self.checked_at > REPORT_OUTDATED_AFTER

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
    The result is also kept for the audit page, and a trail that is not intact is logged at
    ERROR; so is a verification that fails, as a report of its own."""
    now = now or timezone.now()
    try:
        report = _verify(keyring=keyring or current_keyring(), storage=storage, now=now)
    except Exception as exc:  # never leave the page showing an older result: say it failed
        logger.exception("The audit trail's verification failed")
        report = _failed(now, exc)
    cache.set(CACHE_KEY, report.as_dict(), CACHE_SECONDS)
    if not report.intact:
        logger.error(
            "The audit trail is not intact: %d finding(s), the first: %s",
            len(report.findings) + report.more_findings,
            report.findings[0].describe(),
        )
    return report


def _verify(*, keyring: Keyring, storage: Storage | None, now: datetime) -> TrailReport:
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
        now=now,
    )
    # Entries are read in bulk; a row that cannot be loaded fails its whole chunk, so the walk
    # then goes up to that row, reports it, and carries on after it.
    after_id, bad_row = 0, None
    while True:
        entries = AuditEntry.objects.filter(id__gt=after_id).order_by("id")
        if bad_row is not None:
            entries = entries.filter(id__lt=bad_row[0])
        try:
            for entry, following in _with_next(entries.iterator(chunk_size=2000)):
                try:
                    walk.step(entry, following)
                except Exception as exc:  # whatever a row holds: a finding, and on to the next
                    walk.damaged(entry.id, str(entry.entry_hash), type(exc).__name__)
                after_id = entry.id
        except Exception as exc:  # a row the database driver cannot even turn into an entry
            found = _first_unreadable(after_id)
            if found is None or (bad_row is not None and found[0] >= bad_row[0]):
                raise
            bad_row = (*found, type(exc).__name__)
            continue
        if bad_row is None:
            break
        walk.damaged(*bad_row)
        after_id, bad_row = bad_row[0], None
    walk.check_head(head)
    walk.check_checkpoints(checkpoints, unreadable)
    walk.check_series(checkpoints)
    walk.findings.extend(unavailable)
    newest = max(checkpoints, key=lambda checkpoint: checkpoint.taken_at, default=None)
    return TrailReport(
        checked_at=now,
        entries=walk.length,
        legacy_entries=walk.legacy_entries,
        keyed_from=walk.keyed_from,
        checkpoints=len(checkpoints),
        newest_checkpoint_at=newest.taken_at if newest else None,
        newest_checkpoint_position=newest.position if newest else None,
        findings=walk.findings[:MAX_FINDINGS],
        more_findings=max(0, len(walk.findings) - MAX_FINDINGS),
    )


def _first_unreadable(after_id: int) -> tuple[int, str] | None:
    """The id and link of the first entry after `after_id` that cannot be loaded, read one by
    one (only after loading them in bulk failed)."""
    ids = AuditEntry.objects.filter(id__gt=after_id).order_by("id").values_list("id", flat=True)
    for entry_id in ids.iterator(chunk_size=2000):
        try:
            AuditEntry.objects.get(pk=entry_id)
        except Exception:  # whatever the error: this is the row to report
            link = AuditEntry.objects.filter(pk=entry_id).values_list("entry_hash", flat=True)
            return entry_id, str(link.first() or "")
    return None


def _failed(now: datetime, exc: Exception) -> TrailReport:
    return TrailReport(
        checked_at=now,
        entries=0,
        legacy_entries=0,
        keyed_from=None,
        checkpoints=0,
        newest_checkpoint_at=None,
        newest_checkpoint_position=None,
        findings=[Finding(Kind.VERIFICATION_FAILED, params={"error": type(exc).__name__})],
    )


def latest_report() -> TrailReport | None:
    """The newest verification's result (scheduled, or `manage.py verify_audit_chain`)."""
    data = cache.get(CACHE_KEY)
    if not data:
        return None
    try:
        return TrailReport.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


def unresolved_checkpoint_alarm() -> CheckpointAlarm | None:
    """The newest refusal to sign a checkpoint, unless an intact verification came after it."""
    alarm = latest_alarm()
    report = latest_report()
    if alarm is None or (report and report.intact and report.checked_at > alarm.last_at):
        return None
    return alarm


def _with_next(entries: Iterable[AuditEntry]) -> Iterator[tuple[AuditEntry, AuditEntry | None]]:
    """Each entry with the one after it: whether the chain goes around an entry tells an
    inserted entry from an edited one."""
    iterator = iter(entries)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, following
        current = following


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
        now: datetime,
    ) -> None:
        self.keyring = keyring
        self.now = now
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
        # (checkpoint name, until) of each authentic acknowledgement of a checkpoint gap.
        self.gaps_acknowledged: list[tuple[str, datetime]] = []
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
        plausible = self._plausible(entry.created_at)
        if not plausible:
            self._find(Kind.IMPLAUSIBLE_TIME, entry, position, time=str(entry.created_at))
        if authentic:
            self._check_key_order(entry, position)
            if entry.is_keyed and plausible:
                self._note_acknowledgement(entry)
        self.length = max(position, self.length)
        self.last_link = entry.entry_hash
        if plausible:
            self.last_time = entry.created_at
        if position in self.wanted:
            self.links_at.setdefault(position, entry.entry_hash)
        if entry.is_keyed:
            if self.keyed_from is None:
                self.keyed_from, self.first_keyed_at = position, entry.created_at
        else:
            self.legacy_entries += 1

    def damaged(self, entry_id: int, link: str, error: str) -> None:
        """An entry whose values broke the check, or its loading: it stands at the next place
        of the chain."""
        position = self.length + 1
        self.findings.append(Finding(Kind.DAMAGED, position, entry_id, {"error": error}))
        self.length = position
        self.last_link = link

    def _plausible(self, moment: datetime | None) -> bool:
        return (
            isinstance(moment, datetime)
            and moment.tzinfo is not None
            and EARLIEST_PLAUSIBLE <= moment <= self.now + FUTURE_TOLERANCE
        )

    def _note_acknowledgement(self, entry: AuditEntry) -> None:
        """What a key holder's acknowledgement excuses (restores.py, gaps.py)."""
        details = entry.details if isinstance(entry.details, dict) else {}
        if entry.action == Action.AUDIT_RESTORE_ACKNOWLEDGED:
            self.restores.append((entry.created_at, int(details.get("restored_length", 0))))
        elif entry.action == Action.AUDIT_GAP_ACKNOWLEDGED:
            until = datetime.fromisoformat(str(details["until"]))
            self.gaps_acknowledged.append((str(details["after_checkpoint"]), until))

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
        # Differences only: a date a row may hold (year 1) must not overflow the arithmetic.
        in_rollover = entry.created_at - switched_at <= self.rollover and (
            self.last_time is None or self.last_time - entry.created_at <= self.rollover
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

    def check_series(self, checkpoints: list[Checkpoint]) -> None:
        """The checkpoints form one series: each names the one before it (one deleted from the
        middle is missed by the next), and there is one every interval, up to now (deleting
        the newest ones, to cut the entries they recorded, leaves a gap). The oldest may name
        one no longer kept: old checkpoints may be archived away."""
        ordered = sorted(checkpoints, key=lambda checkpoint: (checkpoint.taken_at, checkpoint.name))
        by_signature = {checkpoint.signature: checkpoint for checkpoint in ordered}
        for checkpoint in ordered[1:]:
            if not checkpoint.chained:
                continue
            if not checkpoint.previous:
                self.findings.append(
                    Finding(Kind.CHECKPOINT_UNCHAINED, params={"name": checkpoint.name})
                )
                continue
            earlier = by_signature.get(checkpoint.previous)
            if earlier is None or earlier.name != checkpoint.previous_name:
                self.findings.append(
                    Finding(
                        Kind.CHECKPOINT_MISSING,
                        params={"name": checkpoint.name, "previous": checkpoint.previous_name},
                    )
                )
        for before, after in pairwise(ordered):
            interval = max(interval_of(before), interval_of(after))
            if after.taken_at - before.taken_at > 2 * interval and not self._gap_acknowledged(
                before.name, after.taken_at
            ):
                self.findings.append(
                    Finding(
                        Kind.CHECKPOINT_GAP,
                        params={
                            "name": before.name,
                            "start": _when(before.taken_at),
                            "end": _when(after.taken_at),
                            "minutes": int(interval.total_seconds() // 60),
                        },
                    )
                )
        newest = ordered[-1] if ordered else None
        if newest is not None:
            since, interval, name = newest.taken_at, interval_of(newest), newest.name
        elif self.length and self.first_keyed_at is not None:
            # None yet: due since the chain was keyed (there was no sink before).
            since, name = self.first_keyed_at, ""
            interval = timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES)
        else:
            return
        if self.now - since > 2 * interval and not self._gap_acknowledged(name, self.now):
            self.findings.append(
                Finding(
                    Kind.STALE_CHECKPOINTS,
                    params={"time": _when(since), "minutes": int(interval.total_seconds() // 60)},
                )
            )

    def _gap_acknowledged(self, after: str, end: datetime) -> bool:
        """Whether a key holder acknowledged the gap after checkpoint `after` (gaps.py) up to
        `end`; the checkpoint written just after the acknowledgement may come a little later."""
        slack = 2 * timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES)
        return any(name == after and end <= until + slack for name, until in self.gaps_acknowledged)

    def _find(self, kind: Kind, entry: AuditEntry, position: int, **params: Any) -> None:
        self.findings.append(Finding(kind, position, entry.id, params))


_REASONS = {
    "malformed": lambda: gettext("malformed"),
    "unreadable": lambda: gettext("unreadable"),
    "unknown_key": lambda: gettext("signed with a key that is not configured"),
    "bad_signature": lambda: gettext("its signature does not match"),
}
