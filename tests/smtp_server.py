"""A real SMTP server for the tests (aiosmtpd, in a thread, on a free port), and the settings
that make Django send through it. Locally the tests skip when aiosmtpd is not installed; in
CI (CI=true) that is a failure."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest

from tests.conftest import IN_CI


def _aiosmtpd() -> Any:
    try:
        from aiosmtpd import controller
    except ImportError:
        if IN_CI:
            pytest.fail("CI must run the e-mail tests against aiosmtpd (pip install aiosmtpd)")
        pytest.skip("aiosmtpd is not installed")
    return controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the server received, in order."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    starttls_used: list[bool] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # addresses answered with a 550

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        message["X-Test-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        self.starttls_used.append(session.ssl is not None)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["X-Test-Envelope-To"]]

    def only(self, address: str) -> EmailMessage:
        [message] = self.to(address)
        return message


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def link_in(message: EmailMessage, path_start: str) -> str:
    """The first absolute link of the plain-text part whose path starts so."""
    match = re.search(rf"https?://[^\s/]+({re.escape(path_start)}\S*)", text_of(message))
    assert match, text_of(message)
    return match.group(0)


def start(mailbox: Mailbox, **options: Any) -> Any:
    controller = _aiosmtpd().Controller(
        mailbox, hostname=mailbox.host, port=mailbox.port, **options
    )
    controller.start()
    return controller


def use_server(settings: Any, mailbox: Mailbox, *, security: str = "none") -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = mailbox.host
    settings.EMAIL_PORT = mailbox.port
    settings.EMAIL_USE_TLS = security == "starttls"
    settings.EMAIL_USE_SSL = security == "tls"
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5


@contextmanager
def serving(settings: Any) -> Iterator[Mailbox]:
    """Django sends through a real SMTP server while this lasts; the test reads what it
    received. (Each test folder's conftest makes it the `smtp` fixture.)"""
    mailbox = Mailbox(host="127.0.0.1", port=free_port())
    controller = start(mailbox)
    use_server(settings, mailbox)
    try:
        yield mailbox
    finally:
        controller.stop()


def tls_context_for_localhost(tmp_path: Any) -> tuple[ssl.SSLContext, str]:
    """A server context with a certificate for 127.0.0.1 from a made-up CA, and the CA's file
    (which clients trust through SSL_CERT_FILE)."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test mail CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file = tmp_path / "server.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file = tmp_path / "server.key"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file), str(key_file))
    return context, str(ca_file)
