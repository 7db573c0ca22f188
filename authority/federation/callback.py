"""The gateway's notifications of new batches: keep our subscription registered (the gateway drops failing ones)."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from django.conf import settings

from authority.federation.client import GatewayClient, GatewayUnreachable
from authority.formats.efgs.signing import thumbprint


@dataclass(frozen=True)
class CallbackServerCertificate:
    """What the gateway's operators need to register for notifications to reach us."""

    host: str
    subject: str
    thumbprint: str
    names_host: bool  # the host is among the certificate's DNS names (SecReq-040/041)


def callback_url_problem(url: str) -> str:
    """Why the gateway would refuse this callback URL (CallbackService.checkUrl); empty if fine.

    Whether the host resolves to a public address is left to the gateway: it is answered
    from where the gateway stands, not from here.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "it is not a URL"
    if parts.scheme != "https":
        return "the gateway calls only https:// addresses"
    if not host:
        return "it names no host"
    if parts.query:
        return "the gateway refuses a query string (it adds batchTag and date itself)"
    return ""


def callback_server_certificate(url: str, *, timeout: float) -> CallbackServerCertificate:
    """The certificate our TLS terminator serves for the callback URL's host.

    The gateway's callback client trusts a server only if the SHA-256 of a certificate of
    its chain is registered as an AUTHENTICATION certificate (EfgsCallbackTrustManager), so
    this is the thumbprint to send to its operators. Read as any client sees it: no
    verification, the point is to learn what is served. Raises OSError when unreachable.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, parts.port or 443), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise OSError(f"{host} served no certificate")
    certificate = x509.load_der_x509_certificate(der)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = san.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    return CallbackServerCertificate(
        host=host,
        subject=certificate.subject.rfc4514_string(),
        thumbprint=thumbprint(certificate),
        names_host=host.lower() in {name.lower() for name in names},
    )


def ensure_subscription(*, client: GatewayClient) -> str:
    """Register FEDERATION_CALLBACK_URL when the gateway does not have it; a sentence for the run's record.

    Empty when there is nothing to say (no callback configured, or already registered).
    Never raises for the gateway's answers: a download does not depend on callbacks.
    """
    url = settings.FEDERATION_CALLBACK_URL
    if not url:
        return ""
    callback_id = settings.FEDERATION_CALLBACK_ID
    notes = []
    try:
        listing = client.callbacks()
        rows: list[dict[str, object]] = []
        if listing.status == 200:
            try:
                rows = [row for row in listing.json() if isinstance(row, dict)]
            except (ValueError, TypeError):
                rows = []
        # A subscription of ours under another id (FEDERATION_CALLBACK_ID changed) would
        # announce every batch twice: it goes.
        for row in rows:
            stale = str(row.get("callbackId") or "")
            if row.get("url") == url and stale and stale != callback_id:
                answer = client.delete_callback(callback_id=stale)
                notes.append(
                    f"old callback subscription {stale} deleted"
                    if answer.status == 200
                    else f"old callback subscription {stale} not deleted ({answer.status})"
                )
        if any(row.get("callbackId") == callback_id and row.get("url") == url for row in rows):
            return "; ".join(notes)
        answer = client.register_callback(callback_id=callback_id, url=url)
    except GatewayUnreachable as error:
        return "; ".join([*notes, f"callback subscription not checked: {error}"])
    if answer.status == 200:
        notes.append(f"callback subscription {callback_id} registered")
    else:
        notes.append(
            f"the gateway refused the callback subscription ({answer.status}): "
            f"{answer.message or url}"
        )
    return "; ".join(notes)
