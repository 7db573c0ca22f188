"""Splitting a downloaded batch by its audit entries, and each reason a part is refused."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from authority.formats.efgs.batch import DiagnosisKey, batch_signing_bytes
from authority.formats.efgs.signing import sign_batch, sign_with_trust_anchor, thumbprint
from authority.formats.efgs.verification import AuditEntry, split_and_verify
from tests.federation.pki import Identity, certificate_authority, issue

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def anchor() -> Identity:
    return certificate_authority("Trust anchor")


@pytest.fixture(scope="module")
def signers() -> dict[str, Identity]:
    return {country: issue(None, common_name=f"{country} signing", country=country, usage="sign")
            for country in ("DE", "FR", "IT")}  # fmt: skip


def _keys(count: int, origin: str) -> list[DiagnosisKey]:
    return [
        DiagnosisKey(os.urandom(16), 2_800_000, 144, 0x7FFFFFFF, ("IT",), origin, 1, 0)
        for _ in range(count)
    ]


def _entry(
    keys: list[DiagnosisKey], signer: Identity, anchor: Identity, country: str
) -> AuditEntry:
    return AuditEntry(
        country=country,
        uploaded_at=NOW,
        amount=len(keys),
        batch_signature=sign_batch(
            batch_signing_bytes(keys), certificate=signer.certificate, private_key=signer.key
        ),
        signing_thumbprint=thumbprint(signer.certificate),
        signing_certificate=signer.cert_pem,
        signing_certificate_signature=sign_with_trust_anchor(signer.cert_pem, anchor.key),
    )


def test_parts_follow_the_audit_entries_in_order(
    anchor: Identity, signers: dict[str, Identity]
) -> None:
    first, second, french = _keys(2, "DE"), _keys(3, "DE"), _keys(1, "FR")
    entries = [
        _entry(first, signers["DE"], anchor, "DE"),
        _entry(_keys(4, "IT"), signers["IT"], anchor, "IT"),  # ours: not in the download
        _entry(french, signers["FR"], anchor, "FR"),
        _entry(second, signers["DE"], anchor, "DE"),
    ]
    chunks = split_and_verify(first + french + second, entries, own_country="IT",
                              trust_anchor=anchor.certificate)  # fmt: skip
    assert [(c.country, len(c.keys), c.verified) for c in chunks] == [
        ("DE", 2, True), ("DE", 3, True), ("FR", 1, True),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda e, o: replace(
                e,
                signing_certificate_signature=sign_with_trust_anchor(e.signing_certificate, o.key),
            ),
            "trust_anchor",
        ),
        (lambda e, o: replace(e, signing_thumbprint="0" * 64), "certificate"),
        (lambda e, o: replace(e, batch_signature="bm90IGEgc2lnbmF0dXJl"), "malformed"),
        (lambda e, o: replace(e, uploaded_at=NOW + timedelta(days=5000)), "expired"),
    ],
)
def test_a_part_is_refused_for_each_broken_link(
    anchor: Identity, signers: dict[str, Identity], change, reason: str
) -> None:
    keys = _keys(2, "DE")
    entry = change(_entry(keys, signers["DE"], anchor, "DE"), certificate_authority("Other anchor"))
    (chunk,) = split_and_verify(keys, [entry], own_country="IT", trust_anchor=anchor.certificate)
    assert chunk.reason == reason
    assert not chunk.verified


def test_a_signature_over_other_keys_is_refused(
    anchor: Identity, signers: dict[str, Identity]
) -> None:
    keys = _keys(2, "DE")
    entry = replace(_entry(keys, signers["DE"], anchor, "DE"),
                    batch_signature=_entry(_keys(2, "DE"), signers["DE"], anchor, "DE").batch_signature)  # fmt: skip
    (chunk,) = split_and_verify(keys, [entry], own_country="IT", trust_anchor=anchor.certificate)
    assert chunk.reason == "signature"


def test_a_certificate_of_another_country_cannot_sign_for_this_origin(
    anchor: Identity, signers: dict[str, Identity]
) -> None:
    keys = _keys(2, "DE")
    entry = _entry(keys, signers["FR"], anchor, "DE")
    (chunk,) = split_and_verify(keys, [entry], own_country="IT", trust_anchor=anchor.certificate)
    assert chunk.reason == "country"


def test_keys_and_audit_amounts_that_disagree_refuse_the_whole_origin(
    anchor: Identity, signers: dict[str, Identity]
) -> None:
    keys = _keys(3, "DE")
    entry = _entry(keys[:2], signers["DE"], anchor, "DE")
    chunks = split_and_verify(keys, [entry], own_country="IT", trust_anchor=anchor.certificate)
    assert [(c.reason, len(c.keys)) for c in chunks] == [("audit", 3)]
    orphans = split_and_verify(
        _keys(1, "FR"), [], own_country="IT", trust_anchor=anchor.certificate
    )
    assert orphans[0].reason == "audit"


def test_keys_claiming_our_own_origin_are_refused(
    anchor: Identity, signers: dict[str, Identity]
) -> None:
    keys = _keys(1, "IT")
    entry = _entry(keys, signers["IT"], anchor, "IT")
    (chunk,) = split_and_verify(keys, [entry], own_country="IT", trust_anchor=anchor.certificate)
    assert chunk.reason == "audit"


def test_audit_entries_are_read_from_the_gateways_json() -> None:
    entry = AuditEntry.from_json({"country": "DE", "uploadedTime": "2020-07-31T11:24:43.086Z", "amount": 3,
                                  "batchSignature": "x", "uploaderSigningThumbprint": "ab"})  # fmt: skip
    assert entry.uploaded_at == datetime(2020, 7, 31, 11, 24, 43, 86000, tzinfo=UTC)
    assert (entry.amount, entry.signing_certificate) == (3, "")
