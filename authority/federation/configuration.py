"""The federation's settings as usable objects: the gateway, our certificates and keys, the trust anchor, and their checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from authority.formats.efgs.signing import (
    SigningKey,
    certificate_country,
    public_key_matches,
    thumbprint,
)

# Certificates this close to their end are flagged to administrators.
EXPIRY_WARNING = timedelta(days=30)


class FederationOff(Exception):
    """FEDERATION_GATEWAY_URL is not set: nothing is shared or downloaded."""


class FederationMisconfigured(Exception):
    """The federation is switched on, but its certificates cannot be used (the message says why)."""


@dataclass(frozen=True)
class Federation:
    gateway_url: str
    country: str
    tls_cert_file: str
    tls_key_file: str
    server_ca: str | bool  # a CA bundle's path, or True for certifi's public CAs
    signing_certificate: x509.Certificate
    signing_key: SigningKey
    trust_anchor: x509.Certificate
    timeout: float
    attempts: int
    backoff_seconds: float


@dataclass(frozen=True)
class CertificateInfo:
    """What administrators see of a configured certificate."""

    purpose: str
    subject: str
    not_after: datetime
    expires_soon: bool
    expired: bool = False


def enabled() -> bool:
    return bool(settings.FEDERATION_GATEWAY_URL)


def _read(setting: str) -> bytes:
    path = getattr(settings, setting)
    if not path:
        raise FederationMisconfigured(f"{setting} is not set")
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise FederationMisconfigured(
            f"{setting}: {path} cannot be read ({error.strerror})"
        ) from error


def _certificate(setting: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_read(setting))
    except ValueError as error:
        raise FederationMisconfigured(f"{setting} is not a PEM certificate") from error


def _private_key(setting: str) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(_read(setting), password=None)
    except (ValueError, TypeError) as error:
        raise FederationMisconfigured(f"{setting} is not an unencrypted PEM private key") from error
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise FederationMisconfigured(f"{setting} must be an RSA or EC key")
    return key


def _check_gateway_can_name(setting: str, certificate: x509.Certificate) -> None:
    """Refuse a certificate whose SHA-256 begins with a zero byte (about one in 256).

    The gateway names a certificate by `new BigInteger(1, sha256).toString(16)`, padded only
    from 63 digits to 64 (CertificateUtils.calculateHash, and the same for the load
    balancer's X-SSL-Client-SHA256 header), while its operators register the 64-digit
    `openssl x509 -fingerprint`: the two never meet for such a certificate, so every upload
    would be refused (403 for the TLS certificate, 400 for the signing one).
    """
    print_ = thumbprint(certificate)
    if print_.startswith("00"):
        raise FederationMisconfigured(
            f"{setting}: the certificate's SHA-256 ({print_}) begins with 00, and the gateway "
            "cannot find such a certificate among those registered (it drops leading zeros "
            "from the thumbprint): reissue the certificate (a new serial number is enough) "
            "and register the new one"
        )


def load() -> Federation:
    """The configuration, parsed; FederationOff when switched off, FederationMisconfigured when unusable."""
    if not enabled():
        raise FederationOff("FEDERATION_GATEWAY_URL is not set")
    if not settings.FEDERATION_GATEWAY_URL.startswith("https://"):
        raise FederationMisconfigured("FEDERATION_GATEWAY_URL must be an https:// address")
    tls_certificate = _certificate("FEDERATION_TLS_CERT_FILE")
    tls_key = _private_key("FEDERATION_TLS_KEY_FILE")
    if not public_key_matches(tls_certificate, tls_key):
        raise FederationMisconfigured(
            "FEDERATION_TLS_KEY_FILE is not the key of FEDERATION_TLS_CERT_FILE"
        )
    signing_certificate = _certificate("FEDERATION_SIGNING_CERT_FILE")
    signing_key = _private_key("FEDERATION_SIGNING_KEY_FILE")
    if not public_key_matches(signing_certificate, signing_key):
        raise FederationMisconfigured(
            "FEDERATION_SIGNING_KEY_FILE is not the key of FEDERATION_SIGNING_CERT_FILE"
        )
    for setting, certificate in (
        ("FEDERATION_TLS_CERT_FILE", tls_certificate),
        ("FEDERATION_SIGNING_CERT_FILE", signing_certificate),
    ):
        if certificate_country(certificate) != settings.FEDERATION_COUNTRY:
            raise FederationMisconfigured(
                f"{setting} is not a certificate of {settings.FEDERATION_COUNTRY} (its C attribute)"
            )
    for setting, certificate in (
        ("FEDERATION_TLS_CERT_FILE", tls_certificate),
        ("FEDERATION_SIGNING_CERT_FILE", signing_certificate),
    ):
        _check_gateway_can_name(setting, certificate)
    trust_anchor = _certificate("FEDERATION_TRUST_ANCHOR_FILE")
    if settings.FEDERATION_SERVER_CA_FILE:
        _read("FEDERATION_SERVER_CA_FILE")
    return Federation(
        gateway_url=settings.FEDERATION_GATEWAY_URL,
        country=settings.FEDERATION_COUNTRY,
        tls_cert_file=settings.FEDERATION_TLS_CERT_FILE,
        tls_key_file=settings.FEDERATION_TLS_KEY_FILE,
        server_ca=settings.FEDERATION_SERVER_CA_FILE or True,
        signing_certificate=signing_certificate,
        signing_key=signing_key,
        trust_anchor=trust_anchor,
        timeout=float(settings.FEDERATION_TIMEOUT_SECONDS),
        attempts=settings.FEDERATION_ATTEMPTS,
        backoff_seconds=float(settings.FEDERATION_BACKOFF_SECONDS),
    )


def certificates(federation: Federation) -> list[CertificateInfo]:
    """Our certificates and the trust anchor, with their end of validity."""
    now = datetime.now(UTC)
    tls = x509.load_pem_x509_certificate(Path(federation.tls_cert_file).read_bytes())
    return [
        CertificateInfo(
            purpose=purpose,
            subject=certificate.subject.rfc4514_string(),
            not_after=certificate.not_valid_after_utc,
            expires_soon=certificate.not_valid_after_utc - now < EXPIRY_WARNING,
            expired=certificate.not_valid_after_utc <= now,
        )
        for purpose, certificate in (
            ("tls", tls),
            ("signing", federation.signing_certificate),
            ("trust_anchor", federation.trust_anchor),
        )
    ]


def check_at_start_up(*, now: datetime | None = None) -> Federation:
    """Refuse to start on a configuration the gateway would refuse: missing, mismatched or expired."""
    try:
        federation = load()
    except FederationMisconfigured as error:
        raise ImproperlyConfigured(f"Federation: {error}") from error
    if settings.FEDERATION_CALLBACK_URL and not settings.FEDERATION_CALLBACK_VERIFY_HEADER:
        raise ImproperlyConfigured(
            "Federation: FEDERATION_CALLBACK_URL is set but FEDERATION_CALLBACK_VERIFY_HEADER is "
            "not: the callback endpoint must sit behind a TLS terminator that checks the "
            "gateway's client certificate and says so in that header"
        )
    if settings.FEDERATION_CALLBACK_URL:
        from authority.federation.callback import callback_url_problem

        problem = callback_url_problem(settings.FEDERATION_CALLBACK_URL)
        if problem:
            raise ImproperlyConfigured(
                f"Federation: FEDERATION_CALLBACK_URL cannot be registered with the gateway: "
                f"{problem}"
            )
    moment = now or datetime.now(UTC)
    tls = x509.load_pem_x509_certificate(Path(federation.tls_cert_file).read_bytes())
    for purpose, certificate in (("tls", tls), ("signing", federation.signing_certificate)):
        if certificate.not_valid_before_utc > moment:
            raise ImproperlyConfigured(
                f"Federation: the {purpose} certificate is valid only from "
                f"{certificate.not_valid_before_utc:%Y-%m-%d}"
            )
    for info in certificates(federation):
        certificate_not_after = info.not_after
        if certificate_not_after <= moment:
            raise ImproperlyConfigured(
                f"Federation: the {info.purpose} certificate ({info.subject}) expired on "
                f"{certificate_not_after:%Y-%m-%d}"
            )
    return federation
