"""Signed checkpoints of the audit chain's head, kept outside the database.

Every AUDIT_CHECKPOINT_MINUTES a small JSON file records the newest entry's position and link
and the time, signed with a key derived from AUDIT_HMAC_KEY, and names the signature of the
checkpoint before it: the checkpoints form a chain of their own, so one deleted from the
middle of the series is missed by the next. The database's administrators can neither write
the sink (docs/audit-trail.md says what that takes) nor compute the signature, so a trail that
is behind a checkpoint (rolled back, emptied) or disagrees with one (rewritten) cannot hide it.

A checkpoint is signed only after checking what it records: the newest entry must be authentic,
be the chain's head, and continue the chain from the previous checkpoint. Otherwise someone
has written the database, and signing would vouch for their version: the checkpoint is refused,
the refusal logged at ERROR by authority.audit.verification and shown to administrators.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from authority.audit.chain import GENESIS_LINK, Keyring, links_match
from authority.audit.models import Action, AuditChainHead, AuditEntry
from authority.audit.services import current_keyring, position_of

# Where every alarm about the trail is logged (and alerted on): the verification's logger.
logger = logging.getLogger("authority.audit.verification")

FOLDER = "audit-checkpoints"
# /1 (the first release of checkpoints) had no link to the checkpoint before it.
FORMAT_UNCHAINED = "authority-audit-checkpoint/1"
FORMAT = "authority-audit-checkpoint/2"
# Checkpoints are read in parallel: on object storage each is a round trip.
READ_THREADS = 8
# The newest refusal, for the audit page, shown for this long after it.
ALARM_CACHE_KEY = "audit:checkpoint-refused"
ALARM_SECONDS = 60 * 60 * 24 * 8


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What the trail's head was at `taken_at`: `position` entries, the newest with `link`.
    `previous` is the signature of the checkpoint before it ("" for the first of a series;
    None for an unchained checkpoint of format /1)."""

    name: str
    position: int
    link: str
    entry_id: int | None
    taken_at: datetime
    key_id: str
    signature: str = ""
    previous: str | None = None
    previous_name: str = ""
    interval_minutes: int | None = None

    @property
    def chained(self) -> bool:
        return self.previous is not None


@dataclass(frozen=True, slots=True)
class UnreadableCheckpoint:
    """A file in the sink that is not a checkpoint this server signed."""

    name: str
    reason: str


class CheckpointRefused(Exception):
    """The trail is not in a state a checkpoint may vouch for (`reason`, with `params`)."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params

    def describe(self) -> str:
        return describe_refusal(self.reason, self.params)


def describe_refusal(reason: str, params: dict[str, Any]) -> str:
    """A refusal, worded in the active language."""
    return _REFUSALS[reason]() % params


# Functions, so each message is translated when it is shown, in the reader's language.
_REFUSALS = {
    "not_authentic": lambda: gettext(
        "the newest entry, #%(position)s (id %(id)s), is not authentic: its link is not one the "
        "audit key makes"
    ),
    "not_head": lambda: gettext(
        "the newest entry, #%(position)s (id %(id)s), is not the chain's head, which records "
        "%(length)s entries"
    ),
    "behind": lambda: gettext(
        "the trail ends at entry #%(position)s, but the checkpoint of %(time)s recorded "
        "%(recorded)s entries"
    ),
    "unlinked": lambda: gettext(
        "entry #%(position)s (id %(id)s) does not continue the chain from the checkpoint of "
        "%(time)s"
    ),
    "checkpointed_entry_gone": lambda: gettext(
        "entry #%(position)s, which the checkpoint of %(time)s recorded, is no longer in the "
        "trail as it was"
    ),
    "unchecked": lambda: gettext("the trail could not be checked (%(error)s)"),
}


def checkpoint_storage() -> Storage:
    """AUDIT_CHECKPOINT_STORAGE: a sink of its own when configured, else the batch storage
    (the same Django storage the key batches are written to, in a folder the application
    never deletes from)."""
    return storages[settings.AUDIT_CHECKPOINT_STORAGE]


def _body(
    *,
    position: int,
    link: str,
    entry_id: int | None,
    taken_at: datetime,
    key_id: str,
    chain: tuple[str, str, int] | None,
) -> dict[str, Any]:
    """What is signed. `chain`: the previous checkpoint's signature and name, and the
    interval, for format /2; None for format /1."""
    body: dict[str, Any] = {
        "format": FORMAT_UNCHAINED if chain is None else FORMAT,
        "position": position,
        "link": link,
        "entry_id": entry_id,
        "taken_at": taken_at.astimezone(UTC).isoformat(),
        "key": key_id,
    }
    if chain is not None:
        body["previous"], body["previous_name"], body["interval_minutes"] = chain
    return body


def write_checkpoint(*, keyring: Keyring | None = None, now: datetime | None = None) -> Checkpoint:
    """Check the chain's head, then record its position and link in a new file of the sink,
    chained to the newest checkpoint there. Raises CheckpointRefused (logged, and kept for
    the audit page) when the head is not one to vouch for."""
    keyring = keyring or current_keyring()
    taken_at = (now or timezone.now()).astimezone(UTC)
    storage = checkpoint_storage()
    previous = newest_checkpoint(storage=storage, keyring=keyring)
    try:
        position, link, entry_id = head_to_sign(keyring=keyring, previous=previous)
    except CheckpointRefused as refusal:
        _raise_alarm(refusal, taken_at)
        raise
    except Exception as exc:  # whatever the rows hold: refuse and say so, never sign blind
        unchecked = CheckpointRefused("unchecked", error=type(exc).__name__)
        logger.exception("The audit trail could not be checked before a checkpoint")
        _raise_alarm(unchecked, taken_at)
        raise unchecked from exc
    key = keyring.current
    interval = settings.AUDIT_CHECKPOINT_MINUTES
    chain = (
        ("", "", interval) if previous is None else (previous.signature, previous.name, interval)
    )
    body = _body(
        position=position,
        link=link,
        entry_id=entry_id,
        taken_at=taken_at,
        key_id=key.key_id,
        chain=chain,
    )
    name = f"{FOLDER}/{taken_at:%Y-%m-%d}/{taken_at:%H%M%S.%f}Z-p{position:012d}.json"
    signature = key.sign(body)
    document = json.dumps({**body, "signature": signature}, indent=1, sort_keys=True)
    stored = storage.save(name, ContentFile(document.encode()))
    return Checkpoint(
        name=stored,
        position=position,
        link=link,
        entry_id=entry_id,
        taken_at=taken_at,
        key_id=key.key_id,
        signature=signature,
        previous=chain[0],
        previous_name=chain[1],
        interval_minutes=interval,
    )


def head_to_sign(*, keyring: Keyring, previous: Checkpoint | None) -> tuple[int, str, int | None]:
    """The position, link and id of the chain's head, once checked: the newest entry is
    authentic, is what the head row records, and continues the chain from the previous
    checkpoint (or from an acknowledged restore made since). Raises CheckpointRefused."""
    # Head and newest entry read together: a writer appending meanwhile waits.
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
        newest = AuditEntry.objects.order_by("-id").first()
    if newest is None:
        if previous is not None and previous.position > 0:
            raise CheckpointRefused(
                "behind", position=0, recorded=previous.position, time=_when(previous.taken_at)
            )
        return 0, GENESIS_LINK, None
    position = position_of(newest)
    if not newest.link_verifies(keyring):
        raise CheckpointRefused("not_authentic", position=position, id=newest.id)
    if head is None or head.last_hash != newest.entry_hash or head.length != position:
        length = 0 if head is None else head.length
        raise CheckpointRefused("not_head", position=position, id=newest.id, length=length)
    if previous is not None:
        _check_continues(keyring=keyring, previous=previous, newest=newest, position=position)
    return position, newest.entry_hash, newest.id


def _check_continues(
    *, keyring: Keyring, previous: Checkpoint, newest: AuditEntry, position: int
) -> None:
    """Every entry after the one the previous checkpoint recorded, up to the newest, is
    authentic, links to the one before it and stands at the next position."""
    start = _restore_since(keyring, previous)
    when = _when(previous.taken_at)
    if start is None:
        if position < previous.position:
            raise CheckpointRefused(
                "behind", position=position, recorded=previous.position, time=when
            )
        start_id, start_position, start_link = previous.entry_id, previous.position, previous.link
    else:
        # Restored from a backup, acknowledged by a key holder: the chain goes on from there.
        start_id, start_position, start_link = start.id, position_of(start), start.entry_hash
    entries = _entries_between(start_id, newest.id)
    if start_id is not None:
        first = next(entries, None)
        if first is None or first.id != start_id or first.entry_hash != start_link:
            raise CheckpointRefused("checkpointed_entry_gone", position=start_position, time=when)
    link, expected = start_link, start_position
    for entry in entries:
        expected += 1
        if (
            entry.previous_hash != link
            or not entry.link_verifies(keyring)
            or (entry.is_keyed and entry.position != expected)
        ):
            raise CheckpointRefused("unlinked", position=expected, id=entry.id, time=when)
        link = entry.entry_hash
    if link != newest.entry_hash or expected != position:
        raise CheckpointRefused("unlinked", position=position, id=newest.id, time=when)


def _entries_between(first_id: int | None, last_id: int) -> Iterator[AuditEntry]:
    entries = AuditEntry.objects.filter(id__lte=last_id)
    if first_id is not None:
        entries = entries.filter(id__gte=first_id)
    return entries.order_by("id").iterator(chunk_size=2000)


def _restore_since(keyring: Keyring, previous: Checkpoint) -> AuditEntry | None:
    """The newest authentic acknowledgement of a restore made after `previous` was taken
    that gives up what `previous` recorded (restores.py), if any."""
    candidates = AuditEntry.objects.filter(
        action=Action.AUDIT_RESTORE_ACKNOWLEDGED, created_at__gte=previous.taken_at
    ).order_by("-id")[:20]
    for entry in candidates:
        restored = entry.details.get("restored_length") if isinstance(entry.details, dict) else None
        if (
            entry.is_keyed
            and isinstance(restored, int)
            and restored < previous.position
            and entry.link_verifies(keyring)
        ):
            return entry
    return None


def _raise_alarm(refusal: CheckpointRefused, at: datetime) -> None:
    logger.error(
        "Audit checkpoint refused: %s. Someone may have written the audit trail in the "
        "database: run manage.py verify_audit_chain (docs/audit-trail.md).",
        refusal.describe(),
    )
    earlier = cache.get(ALARM_CACHE_KEY) or {}
    cache.set(
        ALARM_CACHE_KEY,
        {
            "first_at": earlier.get("first_at", at.isoformat()),
            "last_at": at.isoformat(),
            "count": int(earlier.get("count", 0)) + 1,
            "reason": refusal.reason,
            "params": refusal.params,
        },
        ALARM_SECONDS,
    )


@dataclass(frozen=True)
class CheckpointAlarm:
    """Checkpoints refused lately: `count` since `first_at`, the newest at `last_at`."""

    first_at: datetime
    last_at: datetime
    count: int
    reason: str
    params: dict[str, Any]

    def describe(self) -> str:
        return describe_refusal(self.reason, self.params)


def latest_alarm() -> CheckpointAlarm | None:
    data = cache.get(ALARM_CACHE_KEY)
    if not data:
        return None
    try:
        return CheckpointAlarm(
            first_at=datetime.fromisoformat(data["first_at"]),
            last_at=datetime.fromisoformat(data["last_at"]),
            count=int(data["count"]),
            reason=str(data["reason"]),
            params=dict(data["params"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def checkpoint_names(storage: Storage) -> list[str]:
    """Every file under the checkpoint folder, oldest first (names start with the time)."""
    names: list[str] = []
    try:
        days, stray = storage.listdir(FOLDER)
    except FileNotFoundError:
        return []
    names.extend(f"{FOLDER}/{name}" for name in stray)
    for day in days:
        _folders, files = storage.listdir(f"{FOLDER}/{day}")
        names.extend(f"{FOLDER}/{day}/{name}" for name in files)
    return sorted(names)


def newest_checkpoint(*, storage: Storage, keyring: Keyring) -> Checkpoint | None:
    """The newest checkpoint of the sink that this server signed: the one the next is chained
    to. Reads the newest day folder (and older ones only while they hold no such file)."""
    try:
        days, _stray = storage.listdir(FOLDER)
    except FileNotFoundError:
        return None
    for day in sorted(days, reverse=True):
        _folders, files = storage.listdir(f"{FOLDER}/{day}")
        for name in sorted(files, reverse=True):
            found = _read(storage, f"{FOLDER}/{day}/{name}", keyring)
            if isinstance(found, Checkpoint):
                return found
    return None


def read_checkpoints(
    *, keyring: Keyring | None = None, storage: Storage | None = None
) -> tuple[list[Checkpoint], list[UnreadableCheckpoint]]:
    """Every checkpoint whose signature holds under a configured key, oldest first, and every
    file that is not one."""
    keyring = keyring or current_keyring()
    storage = storage or checkpoint_storage()
    names = checkpoint_names(storage)
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        results = list(pool.map(lambda name: _read(storage, name, keyring), names))
    good = [result for result in results if isinstance(result, Checkpoint)]
    bad = [result for result in results if isinstance(result, UnreadableCheckpoint)]
    good.sort(key=lambda checkpoint: (checkpoint.taken_at, checkpoint.position))
    return good, bad


def _read(storage: Storage, name: str, keyring: Keyring) -> Checkpoint | UnreadableCheckpoint:
    try:
        with storage.open(name, "rb") as stored:
            document = json.loads(stored.read())
        signature = document.pop("signature")
        chain = None
        if document.get("format") == FORMAT:
            interval = document["interval_minutes"]
            if not isinstance(interval, int) or interval < 1:
                return UnreadableCheckpoint(name, "malformed")
            chain = (str(document["previous"]), str(document["previous_name"]), interval)
        body = _body(
            position=int(document["position"]),
            link=str(document["link"]),
            entry_id=None if document["entry_id"] is None else int(document["entry_id"]),
            taken_at=datetime.fromisoformat(document["taken_at"]),
            key_id=str(document["key"]),
            chain=chain,
        )
        if body != document:
            return UnreadableCheckpoint(name, "malformed")
        taken_at = datetime.fromisoformat(body["taken_at"])
        # A time no clock of ours gives would only break the arithmetic on it.
        if taken_at.tzinfo is None or not (
            datetime(2000, 1, 1, tzinfo=UTC) <= taken_at <= datetime(9000, 1, 1, tzinfo=UTC)
        ):
            return UnreadableCheckpoint(name, "malformed")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return UnreadableCheckpoint(name, "unreadable")
    key = keyring.get(body["key"])
    if key is None:
        return UnreadableCheckpoint(name, "unknown_key")
    if not isinstance(signature, str) or not links_match(key.sign(body), signature):
        return UnreadableCheckpoint(name, "bad_signature")
    return Checkpoint(
        name=name,
        position=body["position"],
        link=body["link"],
        entry_id=body["entry_id"],
        taken_at=taken_at,
        key_id=body["key"],
        signature=signature,
        previous=None if chain is None else chain[0],
        previous_name="" if chain is None else chain[1],
        interval_minutes=None if chain is None else chain[2],
    )


def interval_of(checkpoint: Checkpoint) -> timedelta:
    """The interval in force when `checkpoint` was taken (format /1: today's setting)."""
    return timedelta(minutes=checkpoint.interval_minutes or settings.AUDIT_CHECKPOINT_MINUTES)
