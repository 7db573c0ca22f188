"""Which network a device request comes from, known only by a daily-rotating keyed hash."""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.utils.crypto import salted_hmac
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


# The one network of every client whose address cannot be read (a misconfigured proxy, a test
# client without one): together they share one budget, so writing junk never buys a fresh one.
UNREADABLE = "unreadable"

logger = logging.getLogger(__name__)
_warned_unused_forwarded_for = False


def client_ip(ident: str) -> IPAddress | None:
    """The address in what a proxy wrote, or None.

    Proxies write "203.0.113.7", "203.0.113.7:51234" (Azure Application Gateway),
    "[2001:db8::1]:51234" or "[2001:db8::1]"; an IPv6 zone ("fe80::1%eth0") is no part of who
    the client is.
    """
    text = ident.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        text = host
    elif text.count(":") == 1:  # IPv4 with a port; IPv6 has at least two colons
        text, _, port = text.partition(":")
        if not port.isdigit():
            return None
    try:
        address = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    return address


def address_network(ident: str, *, ipv4_prefix: int, ipv6_prefix: int) -> str:
    """The network of a client address, as text: "203.0.113.0/24", "2001:db8:1::/48".

    An IPv6 address that carries an IPv4 client (IPv4-mapped, 6to4 2002::/16, Teredo
    2001::/32) is that IPv4 client: otherwise one IPv4 /24 would be 256 IPv6 /48s, each with
    a budget of its own. Anything that is not an address is the one UNREADABLE network.
    """
    address = client_ip(ident)
    if address is None:
        return UNREADABLE
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]  # (server, client): the client, de-obfuscated
        if embedded is None:
            return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
        address = embedded
    return str(ipaddress.IPv4Network((address, ipv4_prefix), strict=False))


def client_address(request: Request) -> str:
    """The client's address as the throttles see it: the connection's address, or behind
    TRUSTED_PROXY_COUNT proxies the entry they appended to X-Forwarded-For (DRF's NUM_PROXIES),
    never one the client wrote itself."""
    if "HTTP_X_FORWARDED_FOR" in request.META and not api_settings.NUM_PROXIES:
        _warn_unused_forwarded_for()
    return BaseThrottle().get_ident(request)


def _warn_unused_forwarded_for() -> None:
    """Once per process: behind a proxy with TRUSTED_PROXY_COUNT=0 every phone is the proxy's
    address, so one network's budget is the whole country's. No address in the message."""
    global _warned_unused_forwarded_for
    if not _warned_unused_forwarded_for:
        _warned_unused_forwarded_for = True
        logger.warning(
            "Device requests carry X-Forwarded-For but TRUSTED_PROXY_COUNT is 0: every client "
            "is counted as the proxy's address. Set TRUSTED_PROXY_COUNT to the number of "
            "proxies in front of the application."
        )


def utc_day(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).date().isoformat()


def network_token(request: Request, *, now: float) -> str:
    """A keyed hash of the request's network under today's key (DESIGN.md 3.3: the address is
    stored nowhere; tomorrow the same network has an unrelated token)."""
    network = address_network(
        client_address(request),
        ipv4_prefix=settings.GUESSING_IPV4_PREFIX,
        ipv6_prefix=settings.GUESSING_IPV6_PREFIX,
    )
    day = utc_day(now)
    return salted_hmac(f"guessing-network:{day}", network, algorithm="sha256").hexdigest()[:32]


def code_token(otp_sha256_hex: str, *, now: float) -> str:
    """A keyed hash of the code a request names: enough to give a network back the failures
    of a code that turns out valid, useless to anyone without the secret (DESIGN.md 3.1)."""
    day = utc_day(now)
    return salted_hmac(
        f"guessing-code:{day}", otp_sha256_hex.lower(), algorithm="sha256"
    ).hexdigest()[:16]
