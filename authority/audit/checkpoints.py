"""Signed checkpoints of the audit chain's head, kept outside the database.

Every AUDIT_CHECKPOINT_MINUTES a small JSON file records the newest entry's position and link
and the time, signed with a key derived from AUDIT_HMAC_KEY. The database's administrators
can neither write the sink (docs/audit-trail.md says what that takes) nor compute the
signature, so a trail that is behind a checkpoint (rolled back, emptied) or disagrees with one
(rewritten) cannot hide it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone

from authority.audit.chain import GENESIS_LINK, Keyring, links_match
from authority.audit.models import AuditEntry
from authority.audit.services import current_keyring, position_of

FOLDER = "audit-checkpoints"
FORMAT = "authority-audit-checkpoint/1"
# Checkpoints are read in parallel: on object storage each is a round trip.
READ_THREADS = 8


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What the trail's head was at `taken_at`: `position` entries, the newest with `link`."""

    name: str
    position: int
    link: str
    entry_id: int | None
    taken_at: datetime
    key_id: str


@dataclass(frozen=True, slots=True)
class UnreadableCheckpoint:
    """A file in the sink that is not a checkpoint this server signed."""

    name: str
    reason: str


def checkpoint_storage() -> Storage:
    """AUDIT_CHECKPOINT_STORAGE: a sink of its own when configured, else the batch storage
    (the same Django storage the key batches are written to)."""
    return storages[settings.AUDIT_CHECKPOINT_STORAGE]


def _body(
    *, position: int, link: str, entry_id: int | None, taken_at: datetime, key_id: str
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "position": position,
        "link": link,
        "entry_id": entry_id,
        "taken_at": taken_at.astimezone(UTC).isoformat(),
        "key": key_id,
    }


def write_checkpoint(*, keyring: Keyring | None = None, now: datetime | None = None) -> Checkpoint:
    """Record the newest entry's position and link in a new file of the sink."""
    keyring = keyring or current_keyring()
    taken_at = (now or timezone.now()).astimezone(UTC)
    newest = AuditEntry.objects.order_by("-id").first()
    if newest is None:
        position, link, entry_id = 0, GENESIS_LINK, None
    else:
        position, link, entry_id = position_of(newest), newest.entry_hash, newest.id
    key = keyring.current
    body = _body(
        position=position, link=link, entry_id=entry_id, taken_at=taken_at, key_id=key.key_id
    )
    name = f"{FOLDER}/{taken_at:%Y-%m-%d}/{taken_at:%H%M%S.%f}Z-p{position:012d}.json"
    document = json.dumps({**body, "signature": key.sign(body)}, indent=1, sort_keys=True)
    stored = checkpoint_storage().save(name, ContentFile(document.encode()))
    return Checkpoint(
        name=stored,
        position=position,
        link=link,
        entry_id=entry_id,
        taken_at=taken_at,
        key_id=key.key_id,
    )


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
        body = _body(
            position=int(document["position"]),
            link=str(document["link"]),
            entry_id=None if document["entry_id"] is None else int(document["entry_id"]),
            taken_at=datetime.fromisoformat(document["taken_at"]),
            key_id=str(document["key"]),
        )
        if document.get("format") != FORMAT or body != document:
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
        taken_at=datetime.fromisoformat(body["taken_at"]),
        key_id=body["key"],
    )
