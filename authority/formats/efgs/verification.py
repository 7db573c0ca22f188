"""Checking a downloaded batch: split it into its uploaders' parts by the audit entries, and verify each part."""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from authority.formats.efgs.batch import DiagnosisKey, batch_signing_bytes
from authority.formats.efgs.signing import (
    BatchSignatureError,
    certificate_country,
    certificate_valid_at,
    same_thumbprint,
    thumbprint,
    verify_batch_signature,
    verify_trust_anchor_signature,
)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One upload inside a download batch, as the gateway's audit endpoint describes it."""

    country: str
    uploaded_at: datetime | None
    amount: int
    batch_signature: str
    signing_thumbprint: str
    signing_certificate: (
        str  # PEM text, exactly as the gateway stores and the trust anchor signed it
    )
    signing_certificate_signature: str

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> AuditEntry:
        uploaded = entry.get("uploadedTime")
        try:
            uploaded_at = (
                datetime.fromisoformat(uploaded.replace("Z", "+00:00")) if uploaded else None
            )
        except (AttributeError, ValueError):
            uploaded_at = None
        return cls(
            country=str(entry.get("country") or ""),
            uploaded_at=uploaded_at,
            amount=int(entry.get("amount") or 0),
            batch_signature=str(entry.get("batchSignature") or ""),
            signing_thumbprint=str(entry.get("uploaderSigningThumbprint") or ""),
            signing_certificate=str(entry.get("signingCertificate") or ""),
            signing_certificate_signature=str(
                entry.get("signingCertificateOperatorSignature") or ""
            ),
        )


@dataclass(frozen=True, slots=True)
class Chunk:
    """One uploader's keys in a downloaded batch, and whether they may be trusted."""

    position: int
    country: str
    keys: tuple[DiagnosisKey, ...]
    entry: AuditEntry | None
    reason: str = ""  # empty when verified; else a short code for counters
    message: str = ""

    @property
    def verified(self) -> bool:
        return not self.reason


def split_and_verify(
    keys: Sequence[DiagnosisKey],
    entries: Sequence[AuditEntry],
    *,
    own_country: str,
    trust_anchor: x509.Certificate,
) -> list[Chunk]:
    """Every key of a downloaded batch in exactly one chunk, each chunk verified or refused.

    The gateway serves a batch's keys in upload order without the downloader's own, and
    lists one audit entry per upload (own ones too) in the same order. So the keys of each
    origin are taken, in order, `amount` at a time for that country's entries, as Immuni's
    client did. Keys left over, or entries short of keys, make the whole origin's keys
    unverifiable: once the counts disagree, no boundary between uploads can be trusted.
    """
    by_origin: dict[str, list[DiagnosisKey]] = {}
    for key in keys:
        by_origin.setdefault(key.origin, []).append(key)
    entries_by_country: dict[str, list[AuditEntry]] = {}
    for entry in entries:
        if entry.country != own_country:
            entries_by_country.setdefault(entry.country, []).append(entry)

    chunks: list[Chunk] = []
    for origin, origin_keys in by_origin.items():
        country_entries = entries_by_country.get(origin, [])
        expected = sum(entry.amount for entry in country_entries)
        if origin == own_country or expected != len(origin_keys):
            chunks.append(
                Chunk(
                    position=len(chunks),
                    country=origin,
                    keys=tuple(origin_keys),
                    entry=None,
                    reason="audit",
                    message=(
                        f"{len(origin_keys)} keys of origin {origin} against "
                        f"{expected} in the audit entries"
                    ),
                )
            )
            continue
        start = 0
        for entry in country_entries:
            part = tuple(origin_keys[start : start + entry.amount])
            start += entry.amount
            reason, message = _verify_chunk(part, entry, origin=origin, trust_anchor=trust_anchor)
            chunks.append(
                Chunk(
                    position=len(chunks),
                    country=origin,
                    keys=part,
                    entry=entry,
                    reason=reason,
                    message=message,
                )
            )
    return chunks


def _verify_chunk(
    keys: tuple[DiagnosisKey, ...],
    entry: AuditEntry,
    *,
    origin: str,
    trust_anchor: x509.Certificate,
) -> tuple[str, str]:
    """("", "") when the chunk verifies; else (reason code, message)."""
    # The certificate the audit names must be vouched for by the trust anchor, exactly as sent.
    if not entry.signing_certificate or not verify_trust_anchor_signature(
        entry.signing_certificate, entry.signing_certificate_signature, trust_anchor
    ):
        return "trust_anchor", "the signing certificate is not signed by the trust anchor"
    try:
        listed = x509.load_pem_x509_certificate(entry.signing_certificate.encode())
    except ValueError:
        return "certificate", "the audit's signing certificate cannot be read"
    if not same_thumbprint(thumbprint(listed), entry.signing_thumbprint):
        return "certificate", "the audit's signing certificate does not match its thumbprint"
    if certificate_country(listed) != origin:
        return "country", f"the signing certificate is not {origin}'s"
    try:
        verified = verify_batch_signature(batch_signing_bytes(keys), entry.batch_signature)
    except BatchSignatureError as error:
        return error.reason, str(error)
    except binascii.Error as error:  # pragma: no cover - verify_batch_signature wraps these
        return "malformed", str(error)
    if verified.certificate != listed:
        return "certificate", "the batch was signed with another certificate than the audit's"
    if entry.uploaded_at is not None and not certificate_valid_at(listed, entry.uploaded_at):
        return "expired", "the signing certificate was not valid when the keys were uploaded"
    if any(key.origin != origin for key in keys):
        return "origin", "keys of another origin"
    return "", ""
