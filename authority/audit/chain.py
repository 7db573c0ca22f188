"""The audit chain's cryptography, without Django: links, key ids and checkpoint signatures.

An entry's link is HMAC-SHA256, under a key the database never holds, of the entry's fields
and the previous entry's link. Entries written before the chain was keyed carry the plain
SHA-256 link they were written with (`legacy_link`). Each key is known by a short id derived
from it, stored on every entry, so that entries made under a retired key still verify while
that key is among the fallbacks. Checkpoints of the chain's head are signed under a second key
derived from the same secret, so a link can never pass for a checkpoint signature or back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_LINK = "0" * 64
# Entries from before the chain was keyed have no key id.
LEGACY_KEY_ID = ""
KEY_ID_LENGTH = 16

_LINK_KEY_LABEL = b"authority.audit.link.v1"
_CHECKPOINT_KEY_LABEL = b"authority.audit.checkpoint.v1"
_KEY_ID_LABEL = b"authority.audit.key-id.v1"


def canonical_json(payload: Mapping[str, Any]) -> bytes:
    """One byte string per value: sorted keys, no spaces, ASCII only."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _derive(secret: str, label: bytes) -> bytes:
    return hmac.new(secret.encode(), label, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class AuditKey:
    """One AUDIT_HMAC_KEY, with the two keys derived from it and its public id."""

    key_id: str
    link_key: bytes
    checkpoint_key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> AuditKey:
        return cls(
            key_id=hmac.new(secret.encode(), _KEY_ID_LABEL, hashlib.sha256).hexdigest()[
                :KEY_ID_LENGTH
            ],
            link_key=_derive(secret, _LINK_KEY_LABEL),
            checkpoint_key=_derive(secret, _CHECKPOINT_KEY_LABEL),
        )

    def link(self, fields: Mapping[str, Any]) -> str:
        return hmac.new(self.link_key, canonical_json(fields), hashlib.sha256).hexdigest()

    def sign(self, body: Mapping[str, Any]) -> str:
        return hmac.new(self.checkpoint_key, canonical_json(body), hashlib.sha256).hexdigest()


class Keyring:
    """The current key, which makes new links and checkpoints, and the retired ones, which
    only verify what they made."""

    def __init__(self, current: str, fallbacks: Iterable[str] = ()) -> None:
        self.current = AuditKey.from_secret(current)
        self._by_id = {self.current.key_id: self.current}
        for secret in fallbacks:
            key = AuditKey.from_secret(secret)
            self._by_id.setdefault(key.key_id, key)

    def get(self, key_id: str) -> AuditKey | None:
        return self._by_id.get(key_id)


def legacy_link(fields: Mapping[str, Any]) -> str:
    """The unkeyed SHA-256 link of entries written before the chain was keyed."""
    return hashlib.sha256(canonical_json(fields)).hexdigest()


def links_match(expected: str, stored: str) -> bool:
    return hmac.compare_digest(expected.encode(), stored.encode())
