"""Handing a device's report or token from a request to a Celery task without it sitting in the
broker: the task gets a ticket, the cache holds what the ticket opens, encrypted, for an hour.

Task arguments are ids (STYLE.md), and for a good reason here: a broker keeps messages until
a worker acknowledges them (and Redis writes them to its snapshots), and Celery logs task
arguments at DEBUG. An iOS DeviceCheck token, an app's analytics token or an Android
attestation must not wait there. So the request stores the payload in the cache, encrypted
with a key drawn for this one payload, and the task's only argument is the ticket: the
entry's random name and that key. Neither half alone reveals anything; the task deletes the
entry as it reads it, after which the ticket opens nothing. (The embedded run's cache is a
database table: what it holds is ciphertext, gone once read, DESIGN.md 3.3.)
"""

from __future__ import annotations

import json
import os
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.cache import cache

# Long enough for a queue backed up behind a publication run; a payload not taken by then is
# lost (an iOS app asks again on its next start, an Android report waits for next month).
HANDOFF_SECONDS = 60 * 60
_NONCE_BYTES = 12


def _cache_key(name: str) -> str:
    return f"handoff:{name}"


def hand_over(payload: dict[str, Any]) -> str:
    """Store `payload` (JSON-serialisable) for one task to take; the ticket to give that task."""
    name = secrets.token_hex(16)
    key = AESGCM.generate_key(bit_length=128)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, json.dumps(payload).encode(), name.encode())
    cache.set(_cache_key(name), sealed, timeout=HANDOFF_SECONDS)
    return f"{name}.{urlsafe_b64encode(key).decode()}"


def take_over(ticket: str) -> dict[str, Any] | None:
    """The payload a ticket opens, removed from the cache as it is read: None once expired,
    taken by another worker (a message delivered twice), or for a ticket that opens nothing."""
    name, _, key_text = ticket.partition(".")
    sealed = cache.get(_cache_key(name))
    # `delete` is atomic: of two workers holding one ticket, exactly one goes on.
    if not isinstance(sealed, bytes) or not cache.delete(_cache_key(name)):
        return None
    try:
        key = urlsafe_b64decode(key_text)
        data = AESGCM(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], name.encode())
    except (InvalidTag, ValueError):
        return None
    payload = json.loads(data)
    return payload if isinstance(payload, dict) else None
