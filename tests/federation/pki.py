"""Test certificates for the federation, made with cryptography at test time (no key is committed)."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class Identity:
    """A certificate with its private key, and how to write them as PEM files."""

    certificate: x509.Certificate
    key: PrivateKey

    @property
    def cert_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        cert_path = directory / f"{name}.pem"
        key_path = directory / f"{name}.key"
        cert_path.write_text(self.cert_pem)
        key_path.write_text(self.key_pem)
        key_path.chmod(0o600)
        return cert_path, key_path


def _name(common_name: str, country: str | None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if country is not None:
        attributes.insert(0, x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Health Authority"))
    return x509.Name(attributes)


def new_key(kind: str = "ec") -> PrivateKey:
    if kind == "rsa":
        # 2048 bits: test keys only, quick to make; production keys follow the gateway (3072).
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def certificate_authority(common_name: str = "EFGS Test CA", kind: str = "ec") -> Identity:
    key = new_key(kind)
    now = datetime.now(UTC)
    name = _name(common_name, "EU")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Identity(certificate, key)


def issue(
    issuer: Identity | None,
    *,
    common_name: str,
    country: str | None,
    kind: str = "ec",
    usage: str = "client",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    dns_names: tuple[str, ...] = (),
    ip_addresses: tuple[str, ...] = (),
    key: PrivateKey | None = None,
    padding_bytes: int = 0,
) -> Identity:
    """A leaf certificate signed by `issuer` (self-signed when None), valid a year by default.

    `padding_bytes` adds a private extension of that size: a certificate as big as some
    national PKIs make them (many policies, long chains of names).
    """
    key = key or new_key(kind)
    now = datetime.now(UTC)
    subject = _name(common_name, country)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=400))
        .not_valid_after(not_after or now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if usage == "client":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    elif usage == "server":
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    if dns_names or ip_addresses:
        names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if padding_bytes:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"),
                b"\x04\x82" + padding_bytes.to_bytes(2) + b"\x00" * padding_bytes,
            ),
            critical=False,
        )
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Identity(certificate, key)


def issue_with_thumbprint_starting_00(*, common_name: str, country: str, usage: str) -> Identity:
    """A certificate whose SHA-256 begins with a zero byte (one in 256 does): new serials until one."""
    key = new_key("ec")
    while True:
        identity = issue(None, common_name=common_name, country=country, usage=usage, key=key)
        der = identity.certificate.public_bytes(serialization.Encoding.DER)
        if hashlib.sha256(der).digest()[0] == 0:
            return identity
