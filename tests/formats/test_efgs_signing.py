"""Detached CMS batch signatures: ours verify with OpenSSL, OpenSSL's verify with ours, and tampering fails."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from authority.formats.efgs.signing import (
    BatchSignatureError,
    certificate_country,
    sign_batch,
    sign_with_trust_anchor,
    thumbprint,
    verify_batch_signature,
    verify_trust_anchor_signature,
)
from tests.federation.pki import certificate_authority, issue

needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="needs the openssl command"
)

CONTENT = b"I8e3NiWMh2V5QmdRwsuLIg==.sF/INQ==.qTYXJw==.aQ82ag==.REU=.REU=.AAAAAQ==.8P///w==."


@pytest.fixture(params=["ec", "rsa"])
def signer(request: pytest.FixtureRequest):
    return issue(None, common_name="Signing IT", country="IT", kind=request.param, usage="sign")


def test_our_signature_verifies(signer) -> None:
    signature = sign_batch(CONTENT, certificate=signer.certificate, private_key=signer.key)
    verified = verify_batch_signature(CONTENT, signature)
    assert verified.certificate == signer.certificate
    assert verified.thumbprint == thumbprint(signer.certificate)


def test_other_content_does_not_verify(signer) -> None:
    signature = sign_batch(CONTENT, certificate=signer.certificate, private_key=signer.key)
    with pytest.raises(BatchSignatureError) as refused:
        verify_batch_signature(CONTENT.replace(b"REU=", b"SVQ=", 1), signature)
    assert refused.value.reason == "signature"


def test_the_signature_is_detached_and_carries_only_the_signing_certificate(signer) -> None:
    # The gateway's SecReq-017/018/019: no eContent, the signing certificate and nothing else.
    from asn1crypto import cms

    signature = sign_batch(CONTENT, certificate=signer.certificate, private_key=signer.key)
    signed_data = cms.ContentInfo.load(base64.b64decode(signature))["content"]
    assert signed_data["encap_content_info"]["content"].native is None
    assert len(signed_data["certificates"]) == 1
    assert CONTENT not in base64.b64decode(signature)


@pytest.mark.parametrize(
    "garbage", ["invalidSignature", base64.b64encode(b"\x30\x03\x02\x01\x01").decode(), ""]
)
def test_what_is_not_a_signature_is_refused(garbage: str) -> None:
    with pytest.raises(BatchSignatureError) as refused:
        verify_batch_signature(CONTENT, garbage)
    assert refused.value.reason == "malformed"


@needs_openssl
def test_openssl_verifies_our_signature(signer, tmp_path: Path) -> None:
    # An implementation independent of ours (the gateway uses BouncyCastle) accepts it.
    signature = sign_batch(CONTENT, certificate=signer.certificate, private_key=signer.key)
    (tmp_path / "signature.der").write_bytes(base64.b64decode(signature))
    (tmp_path / "content").write_bytes(CONTENT)
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-noverify",
         "-in", str(tmp_path / "signature.der"), "-content", str(tmp_path / "content"),
         "-out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").read_bytes() == CONTENT


@needs_openssl
def test_we_verify_a_signature_made_by_openssl(signer, tmp_path: Path) -> None:
    cert_path, key_path = signer.write(tmp_path, "signer")
    (tmp_path / "content").write_bytes(CONTENT)
    subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256",
         "-signer", str(cert_path), "-inkey", str(key_path),
         "-in", str(tmp_path / "content"), "-out", str(tmp_path / "signature.der")],
        check=True, capture_output=True,
    )  # fmt: skip
    signature = base64.b64encode((tmp_path / "signature.der").read_bytes()).decode()
    assert verify_batch_signature(CONTENT, signature).certificate == signer.certificate
    with pytest.raises(BatchSignatureError):
        verify_batch_signature(CONTENT + b"x", signature)


def test_trust_anchor_signature_covers_the_pem_text() -> None:
    anchor = certificate_authority("EFGS Trust Anchor")
    signer = issue(None, common_name="Signing DE", country="DE", usage="sign")
    pem = signer.cert_pem
    operator_signature = sign_with_trust_anchor(pem, anchor.key)
    assert verify_trust_anchor_signature(pem, operator_signature, anchor.certificate)
    assert not verify_trust_anchor_signature(pem + "\n", operator_signature, anchor.certificate)
    impostor = certificate_authority("Someone else")
    assert not verify_trust_anchor_signature(pem, operator_signature, impostor.certificate)
    assert not verify_trust_anchor_signature(pem, "not base64!", anchor.certificate)


def test_certificate_country_needs_exactly_one() -> None:
    assert certificate_country(issue(None, common_name="x", country="IT").certificate) == "IT"
    assert certificate_country(issue(None, common_name="x", country=None).certificate) is None
