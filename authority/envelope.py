"""Secrets kept in the database sealed under the key-encryption key (envelope encryption).

The key-encryption key, SIGNING_KEY_ENCRYPTION_KEY, lives outside the database (the
environment, or a file). Each kind of secret stored in the database (the export signing keys,
the authenticator seeds) gets its own AES-256-GCM key derived from it with HKDF-SHA256, so
neither kind can be opened with the other's key. Every ciphertext carries associated data
naming its row: one copied onto another row (another user's device, another key version)
does not open.

While the key-encryption key changes, its previous values (SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS)
still open what they sealed, and `Opened.under_current_key` says which secrets
`manage.py reencrypt_signing_keys` must seal again before the fallback goes.

Stored as FORMAT || nonce || AES-256-GCM(plaintext); the first byte leaves room for another
scheme later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

FORMAT_AES_GCM_V1 = b"\x01"
NONCE_BYTES = 12
_HKDF_INFO = b"aes-256-gcm v1"


class EnvelopeError(RuntimeError):
    """A sealed secret cannot be opened: unknown format, or sealed under another key."""


@dataclass(frozen=True, slots=True)
class Opened:
    plaintext: bytes
    # False when a fallback opened it: seal it again under the current key.
    under_current_key: bool


@dataclass(frozen=True, slots=True)
class Envelope:
    """Seals and opens one kind of secret. `purpose` (the HKDF salt) separates the kinds."""

    purpose: bytes

    def seal(self, plaintext: bytes, *, bound_to: bytes) -> bytes:
        """Encrypt under the current key-encryption key, bound to the row `bound_to` names."""
        nonce = os.urandom(NONCE_BYTES)
        return (
            FORMAT_AES_GCM_V1 + nonce + self._aead(_current()).encrypt(nonce, plaintext, bound_to)
        )

    def open(self, sealed: bytes, *, bound_to: bytes) -> Opened:
        """Decrypt with the current key-encryption key, else with each fallback in turn."""
        if sealed[:1] != FORMAT_AES_GCM_V1:
            raise EnvelopeError("has an unknown encryption format")
        nonce, ciphertext = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        candidates = [_current(), *settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS]
        for position, key_encryption_key in enumerate(candidates):
            try:
                plaintext = self._aead(key_encryption_key).decrypt(nonce, ciphertext, bound_to)
            except InvalidTag:
                continue
            return Opened(plaintext=plaintext, under_current_key=position == 0)
        raise EnvelopeError(
            "cannot be decrypted: neither SIGNING_KEY_ENCRYPTION_KEY nor its fallbacks is the "
            "key it was encrypted with"
        )

    def _aead(self, key_encryption_key: str) -> AESGCM:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=self.purpose, info=_HKDF_INFO
        ).derive(key_encryption_key.encode())
        return AESGCM(derived)


def _current() -> str:
    key: str = settings.SIGNING_KEY_ENCRYPTION_KEY
    return key
