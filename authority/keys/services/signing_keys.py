"""Signing keys: create or rotate, retire, re-encrypt, and open them to sign a publication.

Private keys are kept encrypted at rest (authority.envelope, under SIGNING_KEY_ENCRYPTION_KEY,
bound to the key id and version), or in a PEM file outside the database. No key is ever
created as a side effect: an administrator creates the first one (admin, or
`manage.py rotate_signing_key`) and registers its public key with Apple and Google before
the first publication, which fails clearly until then. Reads are in authority.keys.selectors.
"""

from __future__ import annotations

import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authority.accounts.models import User
from authority.audit.models import Action
from authority.audit.services import record_event
from authority.envelope import Envelope, EnvelopeError
from authority.formats.gaen.export import SignatureInfo
from authority.formats.gaen.signing import (
    MAX_SIGNATURES,
    PrivateKey,
    Signer,
    generate_private_key,
    load_private_key_pem,
    public_key_pem,
)
from authority.keys.models import SigningKey
from authority.keys.selectors import active_signing_keys

# The salt keeps the HKDF-SHA256 derivation of the keys already stored.
PRIVATE_KEYS = Envelope(purpose=b"authority.keys signing-key encryption")


class SigningKeyError(RuntimeError):
    """A signing key cannot be created, loaded or used; the message says what to do."""


# ---------------------------------------------------------------------------- create, rotate


def rotate_signing_key(
    *,
    actor: User | None,
    key_id: str | None = None,
    pem_file: str | None = None,
    retire_previous: bool = False,
    reason: str = "",
) -> SigningKey:
    """Create the next version of the signing key (v1 the first time) and audit it.

    The new key signs first; the previous ones keep signing too (newest first) until they
    are retired, so phones that only know the old key still verify files during the overlap.
    With `pem_file` the private key stays in that file and only its path is stored.
    """
    key_id = key_id or settings.SIGNING_KEY_ID
    private_key = _load_pem_file(pem_file) if pem_file else generate_private_key()
    with transaction.atomic():
        # Serialise rotations of one key id so two administrators cannot pick the same version.
        list(SigningKey.objects.select_for_update().filter(key_id=key_id))
        version = _next_version(key_id)
        first = not SigningKey.objects.filter(key_id=key_id).exists()
        signing_key = SigningKey.objects.create(
            key_id=key_id,
            version=version,
            public_key_pem=public_key_pem(private_key).decode(),
            encrypted_private_key=None
            if pem_file
            else _encrypt_private_key(private_key, key_id=key_id, version=version),
            private_key_file=pem_file or "",
            created_by=actor,
        )
        details = {
            "key_id": key_id,
            "version": version,
            "source": "file" if pem_file else "database",
        }
        if reason:
            details["reason"] = reason
        record_event(
            action=Action.SIGNING_KEY_CREATED if first else Action.SIGNING_KEY_ROTATED,
            actor=actor,
            actor_username="" if actor else "system",
            target=str(signing_key),
            details=details,
        )
        if retire_previous:
            for previous in SigningKey.objects.filter(key_id=key_id, retired_at=None).exclude(
                pk=signing_key.pk
            ):
                retire_signing_key(actor=actor, signing_key=previous)
    return signing_key


def _next_version(key_id: str) -> str:
    numbers = [
        int(match.group(1))
        for version in SigningKey.objects.filter(key_id=key_id).values_list("version", flat=True)
        if (match := re.fullmatch(r"v(\d+)", version))
    ]
    return f"v{max(numbers, default=0) + 1}"


# ---------------------------------------------------------------------------- retire


def retire_signing_key(*, actor: User | None, signing_key: SigningKey) -> SigningKey:
    """Stop signing with this key. The last active key cannot be retired: files need a signature."""
    with transaction.atomic():
        signing_key = SigningKey.objects.select_for_update().get(pk=signing_key.pk)
        if signing_key.retired_at is not None:
            return signing_key
        if not SigningKey.objects.filter(retired_at=None).exclude(pk=signing_key.pk).exists():
            raise SigningKeyError(
                f"{signing_key} is the only active signing key: create a new version before "
                "retiring it."
            )
        signing_key.retired_at = timezone.now()
        signing_key.save(update_fields=["retired_at"])
        record_event(
            action=Action.SIGNING_KEY_RETIRED,
            actor=actor,
            actor_username="" if actor else "system",
            target=str(signing_key),
            details={"key_id": signing_key.key_id, "version": signing_key.version},
        )
    return signing_key


# ---------------------------------------------------------------------------- re-encrypt


def reencrypt_signing_keys(*, actor: User | None = None) -> int:
    """After a new SIGNING_KEY_ENCRYPTION_KEY (the old one in ..._FALLBACKS): encrypt every
    stored private key under the new key. Returns how many were re-encrypted; then the
    fallback can go (once the authenticator seeds moved too: accounts.totp)."""
    moved = []
    with transaction.atomic():
        stored = (
            SigningKey.objects.select_for_update()
            .filter(encrypted_private_key__isnull=False)
            .order_by("pk")
        )
        for signing_key in stored:
            private_key, current = _decrypt_private_key(signing_key)
            if current:
                continue
            signing_key.encrypted_private_key = _encrypt_private_key(
                private_key, key_id=signing_key.key_id, version=signing_key.version
            )
            signing_key.save(update_fields=["encrypted_private_key"])
            moved.append(f"{signing_key.key_id} {signing_key.version}")
        if moved:
            record_event(
                action=Action.SIGNING_KEYS_REENCRYPTED,
                actor=actor,
                actor_username="" if actor else "command",
                details={"signing_keys": moved},
            )
    return len(moved)


# ---------------------------------------------------------------------------- use


def signers_for_export() -> list[Signer]:
    """(SignatureInfo, private key) of the active keys, newest first, at most the format's 10.

    Creates nothing: without an active key it is an error, because phones only trust a key
    that was registered with Apple and Google beforehand.
    """
    keys = list(active_signing_keys()[:MAX_SIGNATURES])
    if not keys:
        raise SigningKeyError(
            "No signing key: an administrator must create one (administration, Signing "
            "keys, Rotate; or manage.py rotate_signing_key [--pem-file PATH]) and register "
            "its public key with Apple and Google before the first publication."
        )
    return [
        (
            SignatureInfo(verification_key_version=key.version, verification_key_id=key.key_id),
            private_key_of(key),
        )
        for key in keys
    ]


def private_key_of(signing_key: SigningKey) -> PrivateKey:
    """The private key, from its encrypted column or its PEM file; checked against the public key."""
    if signing_key.private_key_file:
        private_key = _load_pem_file(signing_key.private_key_file)
    elif signing_key.encrypted_private_key is not None:
        private_key, _current = _decrypt_private_key(signing_key)
    else:  # the database constraint forbids this
        raise SigningKeyError(f"Signing key {signing_key} has no private key.")
    if public_key_pem(private_key).decode() != signing_key.public_key_pem:
        raise SigningKeyError(
            f"The private key of signing key {signing_key} does not match its public key."
        )
    return private_key


# ---------------------------------------------------------------------------- at rest


def _bound_to(key_id: str, version: str) -> bytes:
    # Binds the ciphertext to its row: a private key copied onto another version fails.
    return f"{key_id}:{version}".encode()


def _encrypt_private_key(private_key: PrivateKey, *, key_id: str, version: str) -> bytes:
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return PRIVATE_KEYS.seal(der, bound_to=_bound_to(key_id, version))


def _decrypt_private_key(signing_key: SigningKey) -> tuple[PrivateKey, bool]:
    """The private key, and whether the current key-encryption key opened it (not a fallback)."""
    try:
        opened = PRIVATE_KEYS.open(
            bytes(signing_key.encrypted_private_key or b""),
            bound_to=_bound_to(signing_key.key_id, signing_key.version),
        )
    except EnvelopeError as error:
        raise SigningKeyError(f"Signing key {signing_key} {error}.") from None
    key = serialization.load_der_private_key(opened.plaintext, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningKeyError(f"Signing key {signing_key} is not an EC key.")
    return key, opened.under_current_key


def _load_pem_file(path: str) -> PrivateKey:
    try:
        pem = Path(path).read_bytes()
    except OSError as error:
        raise SigningKeyError(
            f"Cannot read the signing key file {path}: {error.strerror}"
        ) from None
    try:
        return load_private_key_pem(pem)
    except ValueError as error:
        raise SigningKeyError(f"{path} is not a P-256 private key in PEM: {error}") from None
