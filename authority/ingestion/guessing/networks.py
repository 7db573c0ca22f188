"""Which network a device request comes from, known only by a daily-rotating keyed hash."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

from django.conf import settings
from django.utils.crypto import salted_hmac
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle


def address_network(ident: str, *, ipv4_prefix: int, ipv6_prefix: int) -> str:
    """The network of a client address, as text: "203.0.113.0/24", "2001:db8:1::/48".

    An IPv4-mapped IPv6 address is its IPv4 client. Anything that is not an address (a test
    client, a misconfigured proxy) is its own network, as given.
    """
    try:
        address = ipaddress.ip_address(ident.strip())
    except ValueError:
        return ident
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is None:
            return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
        address = address.ipv4_mapped
    return str(ipaddress.IPv4Network((address, ipv4_prefix), strict=False))


def client_address(request: Request) -> str:
    """The client's address as the throttles see it: the connection's address, or behind
    TRUSTED_PROXY_COUNT proxies the entry they appended to X-Forwarded-For (DRF's NUM_PROXIES),
    never one the client wrote itself."""
    return BaseThrottle().get_ident(request)


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
