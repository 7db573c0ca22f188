"""Signing keys: creation, rotation, retirement, and the private keys kept encrypted at rest."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from authority.audit.models import Action
from authority.audit.services import record_event
from authority.formats.gaen.export import SignatureInfo
from authority.formats.gaen.signing import (
    MAX_SIGNATURES,
    PrivateKey,
    PublicKey,
    Signer,
    generate_private_key,
    load_private_key_pem,
    load_public_key_pem,
    public_key_pem,
)
from authority.keys.models import SigningKey

if TYPE_CHECKING:
    from authority.accounts.models import User

# Stored as FORMAT || nonce || AES-256-GCM(ciphertext); the first byte leaves room for
# another scheme (or a new key-encryption key) later.
_FORMAT_AES_GCM_V1 = b"\x01"
_NONCE_BYTES = 12
_HKDF_SALT = b"authority.keys signing-key encryption"
_HKDF_INFO = b"aes-256-gcm v1"


class SigningKeyError(RuntimeError):
    """A signing key cannot be created, loaded or used; the message says what to do."""


# ---------------------------------------------------------------------------- encryption


def _aead(encryption_key: str | None = None) -> AESGCM:
    """AES-256-GCM keyed by HKDF-SHA256 of settings.SIGNING_KEY_ENCRYPTION_KEY (or of
    `encryption_key`, one of its fallbacks)."""
    secret = encryption_key or settings.SIGNING_KEY_ENCRYPTION_KEY
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return AESGCM(derived)


def _associated_data(key_id: str, version: str) -> bytes:
    # Binds the ciphertext to its row: a private key copied onto another version fails.
    return f"{key_id}:{version}".encode()


def encrypt_private_key(private_key: PrivateKey, *, key_id: str, version: str) -> bytes:
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    nonce = os.urandom(_NONCE_BYTES)
    return (
        _FORMAT_AES_GCM_V1 + nonce + _aead().encrypt(nonce, der, _associated_data(key_id, version))
    )


def _decrypt_private_key(blob: bytes, *, key_id: str, version: str) -> PrivateKey:
    return _decrypt_with_any_key(blob, key_id=key_id, version=version)[0]


def _decrypt_with_any_key(blob: bytes, *, key_id: str, version: str) -> tuple[PrivateKey, bool]:
    """The private key, and whether the current key-encryption key opened it (not a fallback)."""
    if blob[:1] != _FORMAT_AES_GCM_V1:
        raise SigningKeyError(f"Signing key {key_id} {version}: unknown encryption format.")
    nonce, ciphertext = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    candidates = [
        settings.SIGNING_KEY_ENCRYPTION_KEY,
        *settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS,
    ]
    for position, encryption_key in enumerate(candidates):
        try:
            der = _aead(encryption_key).decrypt(
                nonce, ciphertext, _associated_data(key_id, version)
            )
        except InvalidTag:
            continue
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise SigningKeyError(f"Signing key {key_id} {version} is not an EC key.")
        return key, position == 0
    raise SigningKeyError(
        f"Signing key {key_id} {version} cannot be decrypted: neither "
        "SIGNING_KEY_ENCRYPTION_KEY nor its fallbacks is the key it was encrypted with."
    )


def reencrypt_signing_keys(*, actor: User | None = None) -> int:
    """After a new SIGNING_KEY_ENCRYPTION_KEY (the old one in ..._FALLBACKS): encrypt every
    stored private key under the new key. Returns how many were re-encrypted; then the
    fallback can go."""
    moved = []
    with transaction.atomic():
        stored = (
            SigningKey.objects.select_for_update()
            .filter(encrypted_private_key__isnull=False)
            .order_by("pk")
        )
        for signing_key in stored:
            private_key, current = _decrypt_with_any_key(
                bytes(signing_key.encrypted_private_key or b""),
                key_id=signing_key.key_id,
                version=signing_key.version,
            )
            if current:
                continue
            signing_key.encrypted_private_key = encrypt_private_key(
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


def private_key_of(signing_key: SigningKey) -> PrivateKey:
    """The private key, from its encrypted column or its PEM file; checked against the public key."""
    if signing_key.private_key_file:
        private_key = _load_pem_file(signing_key.private_key_file)
    elif signing_key.encrypted_private_key is not None:
        private_key = _decrypt_private_key(
            bytes(signing_key.encrypted_private_key),
            key_id=signing_key.key_id,
            version=signing_key.version,
        )
    else:  # the database constraint forbids this
        raise SigningKeyError(f"Signing key {signing_key} has no private key.")
    if public_key_pem(private_key).decode() != signing_key.public_key_pem:
        raise SigningKeyError(
            f"The private key of signing key {signing_key} does not match its public key."
        )
    return private_key


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


def public_key_of(signing_key: SigningKey) -> PublicKey:
    return load_public_key_pem(signing_key.public_key_pem.encode())


# ---------------------------------------------------------------------------- lifecycle


def _next_version(key_id: str) -> str:
    numbers = [
        int(match.group(1))
        for version in SigningKey.objects.filter(key_id=key_id).values_list("version", flat=True)
        if (match := re.fullmatch(r"v(\d+)", version))
    ]
    return f"v{max(numbers, default=0) + 1}"


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
            else encrypt_private_key(private_key, key_id=key_id, version=version),
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


def active_signing_keys() -> list[SigningKey]:
    """The keys that sign new files, newest first, at most the format's 10."""
    return list(
        SigningKey.objects.filter(retired_at=None).order_by("-created_at", "-id")[:MAX_SIGNATURES]
    )


def signers_for_export() -> list[Signer]:
    """(SignatureInfo, private key) of every active key, newest first, ready to sign.

    When there is no key yet: the key in SIGNING_KEY_PEM_FILE is registered if one is
    configured; in development a new key is created; in production it is an error, because
    phones only trust a key that was registered with Apple and Google beforehand.
    """
    keys = active_signing_keys()
    if not keys:
        if settings.SIGNING_KEY_PEM_FILE:
            rotate_signing_key(
                actor=None, pem_file=settings.SIGNING_KEY_PEM_FILE, reason="SIGNING_KEY_PEM_FILE"
            )
        elif not settings.PRODUCTION:
            rotate_signing_key(actor=None, reason="first publication (development)")
        else:
            raise SigningKeyError(
                "No signing key: an administrator must create one (administration, Signing "
                "keys, or manage.py rotate_signing_key) and register its public key first."
            )
        keys = active_signing_keys()
    return [
        (
            SignatureInfo(verification_key_version=key.version, verification_key_id=key.key_id),
            private_key_of(key),
        )
        for key in keys
    ]


def public_keys_by_version() -> dict[tuple[str, str], PublicKey]:
    """Every key ever used, retired ones included, for checking files already published."""
    return {
        (key.key_id, key.version): public_key_of(key)
        for key in SigningKey.objects.only("key_id", "version", "public_key_pem")
    }
