"""Batch signatures of the European gateway: detached CMS SignedData, and the trust anchor's word on certificates.

Signing uses cryptography's PKCS7SignatureBuilder, which makes the detached SignedData the
gateway wants (RFC 5652, no eContent, the signing certificate as the only certificate,
base64 on the wire). cryptography cannot verify CMS, so verification parses the structure
with asn1crypto and checks the signature with cryptography: the same steps as the gateway's
BatchSignatureVerifier (BouncyCastle's CMSSignedData with the content given apart).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class BatchSignatureError(ValueError):
    """A batch signature that does not verify; `reason` is a short code for counters."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    certificate: x509.Certificate
    thumbprint: str


# ------------------------------------------------------------------------ certificates


def thumbprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER certificate in lowercase hex: how the gateway names certificates."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def same_thumbprint(ours: str, theirs: str) -> bool:
    """Whether two hex thumbprints name the same certificate, as the gateway compares them.

    The gateway writes a SHA-256 as a number (`BigInteger.toString(16)`), so a thumbprint it
    made can lack the leading zeros of ours: compared as numbers, both forms are equal.
    """
    try:
        return int(ours, 16) == int(theirs, 16)
    except ValueError:
        return False


def certificate_country(certificate: x509.Certificate) -> str | None:
    """The subject's one C attribute, or None when there is none or more than one."""
    countries = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    if len(countries) != 1:
        return None
    value = countries[0].value
    return value if isinstance(value, str) else value.decode()


def certificate_valid_at(certificate: x509.Certificate, moment: datetime) -> bool:
    return certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc


def public_key_matches(certificate: x509.Certificate, private_key: SigningKey) -> bool:
    def spki(key: CertificatePublicKeyTypes) -> bytes:
        return key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    return spki(certificate.public_key()) == spki(private_key.public_key())


def sign_with_trust_anchor(raw_pem: str, private_key: SigningKey) -> str:
    """The operator signature the gateway keeps beside a registered certificate (base64).

    The trust anchor signs the certificate's PEM text as stored (the gateway verifies
    `rawData.getBytes()`), with SHA-256: `openssl dgst -sha256 -sign` in its tools.
    """
    data = raw_pem.encode()
    if isinstance(private_key, rsa.RSAPrivateKey):
        signature = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


def verify_trust_anchor_signature(
    raw_pem: str, signature_b64: str, trust_anchor: x509.Certificate
) -> bool:
    """Whether the trust anchor signed this PEM text (the audit's operator signature)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    hash_algorithm = trust_anchor.signature_hash_algorithm or hashes.SHA256()
    key = trust_anchor.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, raw_pem.encode(), padding.PKCS1v15(), hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, raw_pem.encode(), ec.ECDSA(hash_algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


# ------------------------------------------------------------------------------ signing


def sign_batch(
    signing_bytes: bytes, *, certificate: x509.Certificate, private_key: SigningKey
) -> str:
    """A detached CMS SignedData over the batch's canonical bytes, base64-encoded.

    Signed attributes (content type, signing time, message digest) as BouncyCastle's
    generator writes them; no S/MIME capabilities, which mean nothing here. Binary: without
    it, cryptography signs the data with its line feeds turned into CRLF (S/MIME text), not
    the bytes given.
    """
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(signing_bytes)
        .add_signer(certificate, private_key, hashes.SHA256())
    )
    der = builder.sign(
        serialization.Encoding.DER,
        [
            pkcs7.PKCS7Options.DetachedSignature,
            pkcs7.PKCS7Options.NoCapabilities,
            pkcs7.PKCS7Options.Binary,
        ],
    )
    return base64.b64encode(der).decode()


# ------------------------------------------------------------------------- verification


def verify_batch_signature(signing_bytes: bytes, signature_b64: str) -> VerifiedSignature:
    """Check a detached CMS signature over `signing_bytes`; the signer's certificate if it holds.

    Raises BatchSignatureError otherwise. Whether the certificate may sign for the keys'
    origin, and whether it was valid, registered and vouched for, is the caller's question.
    """
    try:
        der = base64.b64decode(signature_b64, validate=True)
        content_info = cms.ContentInfo.load(der)
        if content_info["content_type"].native != "signed_data":
            raise BatchSignatureError("malformed", "the signature is not a CMS SignedData")
        signed_data = content_info["content"]
        if signed_data["encap_content_info"]["content"].native is not None:
            raise BatchSignatureError("malformed", "the signature carries the content itself")
        certificates = [
            choice.chosen
            for choice in signed_data["certificates"] or []
            if choice.name == "certificate"
        ]
        signer_infos = list(signed_data["signer_infos"])
        if not signer_infos:
            raise BatchSignatureError("malformed", "the signature has no signer")
        # Like the gateway: the first signer, and its certificate among those sent.
        signer_info = signer_infos[0]
        certificate = _signer_certificate(signer_info, certificates)
        _check_signature(signer_info, certificate, signing_bytes)
    except BatchSignatureError:
        raise
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise BatchSignatureError("malformed", f"the signature cannot be read: {error}") from error
    return VerifiedSignature(certificate=certificate, thumbprint=thumbprint(certificate))


def _signer_certificate(
    signer_info: cms.SignerInfo, certificates: list[object]
) -> x509.Certificate:
    sid = signer_info["sid"]
    for candidate in certificates:
        parsed = x509.load_der_x509_certificate(candidate.dump())  # type: ignore[attr-defined]
        if sid.name == "issuer_and_serial_number":
            issuer_and_serial = sid.chosen
            if (
                issuer_and_serial["serial_number"].native == parsed.serial_number
                and issuer_and_serial["issuer"].dump()
                == candidate["tbs_certificate"]["issuer"].dump()  # type: ignore[index]
            ):
                return parsed
        elif sid.name == "subject_key_identifier":
            try:
                ski = parsed.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except x509.ExtensionNotFound:
                continue
            if ski.value.digest == sid.chosen.native:
                return parsed
    raise BatchSignatureError("no_certificate", "the signer's certificate is not in the signature")


def _check_signature(
    signer_info: cms.SignerInfo, certificate: x509.Certificate, content: bytes
) -> None:
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise BatchSignatureError("algorithm", f"digest {digest_name} is not accepted")
    hash_algorithm = _HASHES[digest_name]()
    signed_attrs = signer_info["signed_attrs"]
    if signed_attrs.native is None:
        signed = content
    else:
        attributes = {attr["type"].native: attr["values"] for attr in signed_attrs}
        if [v.native for v in attributes.get("content_type", [])] != ["data"]:
            raise BatchSignatureError("malformed", "the signed content type is not 'data'")
        digests = [v.native for v in attributes.get("message_digest", [])]
        hasher = hashes.Hash(hash_algorithm)
        hasher.update(content)
        if digests != [hasher.finalize()]:
            raise BatchSignatureError("signature", "the signature is not over these keys")
        # What is signed is the attributes' DER as a SET OF, not with their [0] tag.
        signed = b"\x31" + signed_attrs.dump()[1:]
    signature = signer_info["signature"].native
    algorithm = signer_info["signature_algorithm"]
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if algorithm.signature_algo == "rsassa_pss":
                params = algorithm["parameters"]
                pss_hash = _HASHES[params["hash_algorithm"]["algorithm"].native]()
                key.verify(
                    signature,
                    signed,
                    padding.PSS(
                        mgf=padding.MGF1(pss_hash), salt_length=params["salt_length"].native
                    ),
                    pss_hash,
                )
            else:
                key.verify(signature, signed, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(hash_algorithm))
        else:
            raise BatchSignatureError("algorithm", "the signer's key type is not accepted")
    except InvalidSignature as error:
        raise BatchSignatureError("signature", "the signature does not verify") from error
