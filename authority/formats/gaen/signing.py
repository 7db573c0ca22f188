"""Sign and verify GAEN exports with ECDSA P-256 / SHA-256, and build signed export zips."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from authority.formats.gaen.export import (
    ECDSA_P256_SHA256_OID,
    ExportMetadata,
    ExportSignature,
    ExposureKey,
    SignatureInfo,
    build_export_zip,
    decode_export_bin,
    decode_signature_list,
    encode_export_bin,
    encode_signature_list,
    iter_export_bin,
    iter_export_bin_rows,
    read_export_zip,
    write_export_zip,
)

# Phones accept at most this many signatures in export.sig.
MAX_SIGNATURES = 10

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey
Signer = tuple[SignatureInfo, PrivateKey]

_ALGORITHM = ec.ECDSA(hashes.SHA256())
_PREHASHED_ALGORITHM = ec.ECDSA(Prehashed(hashes.SHA256()))


# ---------------------------------------------------------------------------- keys


def generate_private_key() -> PrivateKey:
    """Return a new P-256 signing key."""
    return ec.generate_private_key(ec.SECP256R1())


def load_private_key_pem(pem: bytes, password: bytes | None = None) -> PrivateKey:
    """Load a P-256 private key from PEM (PKCS#8 or SEC1), refusing any other kind of key."""
    key = serialization.load_pem_private_key(pem, password=password)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("GAEN exports are signed with ECDSA P-256 keys only")
    return key


def load_public_key_pem(pem: bytes) -> PublicKey:
    """Load a P-256 public key from PEM (SubjectPublicKeyInfo), refusing any other kind."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("GAEN exports are verified with ECDSA P-256 keys only")
    return key


def private_key_pem(private_key: PrivateKey) -> bytes:
    """Return the private key as unencrypted PKCS#8 PEM (store it as a secret)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PublicKey | PrivateKey) -> bytes:
    """Return the public key as SubjectPublicKeyInfo PEM, the form Google and Apple ask for."""
    public_key = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# ---------------------------------------------------------------------------- signatures


def sign_export(export_bin: bytes, private_key: PrivateKey) -> bytes:
    """Return the DER-encoded ECDSA P-256 / SHA-256 signature of a whole export.bin."""
    return private_key.sign(export_bin, _ALGORITHM)


def sign_export_digest(sha256_digest: bytes, private_key: PrivateKey) -> bytes:
    """Like `sign_export`, given the SHA-256 of export.bin (for files hashed as streamed)."""
    return private_key.sign(sha256_digest, _PREHASHED_ALGORITHM)


def verify_export(export_bin: bytes, signature: bytes, public_key: PublicKey) -> bool:
    """Whether `signature` is a valid signature of the whole export.bin by this key."""
    try:
        public_key.verify(signature, export_bin, _ALGORITHM)
    except InvalidSignature:
        return False
    return True


def make_signed_export(
    metadata: ExportMetadata, keys: Iterable[ExposureKey], signers: Sequence[Signer]
) -> bytes:
    """Return a complete export zip signed by every signer, newest key first.

    The export.bin lists the signers' SignatureInfos in the same order, replacing any
    already in `metadata`: the signers are the one source of truth for who signs.
    """
    metadata = _with_signers(metadata, signers)
    export_bin = encode_export_bin(metadata, keys)
    signatures = [
        _export_signature(metadata, info, sign_export(export_bin, private_key))
        for info, private_key in signers
    ]
    return build_export_zip(export_bin, encode_signature_list(signatures))


def write_signed_export_zip(
    out: IO[bytes],
    metadata: ExportMetadata,
    sorted_keys: Iterable[ExposureKey],
    signers: Sequence[Signer],
) -> None:
    """Stream a signed export zip to `out`, for files too big for `make_signed_export`.

    `sorted_keys` may be a lazy iterator but must be sorted by key bytes. The export.bin is
    byte-identical to the one `make_signed_export` builds; the signatures differ only
    because ECDSA signatures are randomised, and verify the same way.
    """
    metadata = _with_signers(metadata, signers)
    write_export_zip(
        out, iter_export_bin(metadata, sorted_keys), _signature_maker(metadata, signers)
    )


def write_signed_export_zip_rows(
    out: IO[bytes],
    metadata: ExportMetadata,
    sorted_rows: Iterable[tuple[Any, ...]],
    signers: Sequence[Signer],
) -> None:
    """`write_signed_export_zip` for keys as `KeyRow` tuples (see `iter_export_bin_rows`)."""
    metadata = _with_signers(metadata, signers)
    write_export_zip(
        out, iter_export_bin_rows(metadata, sorted_rows), _signature_maker(metadata, signers)
    )


def _signature_maker(
    metadata: ExportMetadata, signers: Sequence[Signer]
) -> Callable[[bytes], bytes]:
    """export.sig for the SHA-256 digest of export.bin, signed by every signer in order."""

    def make_export_sig(sha256_digest: bytes) -> bytes:
        signatures = [
            _export_signature(metadata, info, sign_export_digest(sha256_digest, private_key))
            for info, private_key in signers
        ]
        return encode_signature_list(signatures)

    return make_export_sig


# ---------------------------------------------------------------------------- verification


class SignatureOutcome(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN_KEY = "unknown key"
    UNSUPPORTED_ALGORITHM = "unsupported algorithm"


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """What became of one signature in export.sig."""

    signature: ExportSignature
    outcome: SignatureOutcome


@dataclass(frozen=True, slots=True)
class ExportVerification:
    """The result of checking an export zip's signatures."""

    checks: tuple[SignatureCheck, ...]
    # Inconsistencies between export.bin and export.sig, in words.
    problems: tuple[str, ...]

    @property
    def is_valid(self) -> bool:
        """At least one signature verifies, none made with a known key fails, and the files agree."""
        outcomes = {check.outcome for check in self.checks}
        return (
            SignatureOutcome.VALID in outcomes
            and SignatureOutcome.INVALID not in outcomes
            and not self.problems
        )


def verify_export_zip(
    zip_bytes: bytes, public_keys: Mapping[tuple[str, str], PublicKey]
) -> ExportVerification:
    """Check every signature of an export zip.

    `public_keys` maps (verification_key_id, verification_key_version) to the public key,
    the way a phone finds the key for a signature. Malformed files raise ExportFormatError.
    """
    export_bin, export_sig = read_export_zip(zip_bytes)
    metadata, _keys = decode_export_bin(export_bin)
    return check_export_signatures(
        export_bin, metadata, decode_signature_list(export_sig), public_keys
    )


def check_export_signatures(
    export_bin: bytes,
    metadata: ExportMetadata,
    signatures: Sequence[ExportSignature],
    public_keys: Mapping[tuple[str, str], PublicKey],
) -> ExportVerification:
    """`verify_export_zip` for an export already taken out of its zip and decoded."""
    checks = []
    problems = []
    if not signatures:
        problems.append("export.sig holds no signature.")
    if len(signatures) > MAX_SIGNATURES:
        problems.append(f"export.sig holds {len(signatures)} signatures, over {MAX_SIGNATURES}.")
    for signature in signatures:
        info = signature.signature_info
        if info not in metadata.signature_infos:
            problems.append(
                f"Signature by key id {info.verification_key_id!r} version "
                f"{info.verification_key_version!r} is not listed in export.bin."
            )
        if (signature.batch_num, signature.batch_size) != (metadata.batch_num, metadata.batch_size):
            problems.append(
                f"Signature batch {signature.batch_num}/{signature.batch_size} differs from "
                f"export.bin batch {metadata.batch_num}/{metadata.batch_size}."
            )
        checks.append(SignatureCheck(signature, _outcome(export_bin, signature, public_keys)))
    return ExportVerification(checks=tuple(checks), problems=tuple(problems))


def _outcome(
    export_bin: bytes, signature: ExportSignature, public_keys: Mapping[tuple[str, str], PublicKey]
) -> SignatureOutcome:
    info = signature.signature_info
    if info.signature_algorithm != ECDSA_P256_SHA256_OID:
        return SignatureOutcome.UNSUPPORTED_ALGORITHM
    public_key = public_keys.get((info.verification_key_id, info.verification_key_version))
    if public_key is None:
        return SignatureOutcome.UNKNOWN_KEY
    if verify_export(export_bin, signature.signature, public_key):
        return SignatureOutcome.VALID
    return SignatureOutcome.INVALID


def _with_signers(metadata: ExportMetadata, signers: Sequence[Signer]) -> ExportMetadata:
    if not signers:
        raise ValueError("An export needs at least one signature")
    if len(signers) > MAX_SIGNATURES:
        raise ValueError(f"An export takes at most {MAX_SIGNATURES} signatures, got {len(signers)}")
    return dataclasses.replace(metadata, signature_infos=tuple(info for info, _key in signers))


def _export_signature(
    metadata: ExportMetadata, info: SignatureInfo, signature: bytes
) -> ExportSignature:
    return ExportSignature(
        signature_info=info,
        signature=signature,
        batch_num=metadata.batch_num,
        batch_size=metadata.batch_size,
    )
