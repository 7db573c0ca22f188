"""Who a network is when the proxy writes ports, when an IPv6 address carries an IPv4 client,
and when the address cannot be read (review 12, findings 6 and 7: each of these handed out a
fresh budget per connection or per IPv6 /48)."""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter

import pytest
from django.test import Client

from authority.ingestion.guessing import networks
from authority.ingestion.guessing.networks import UNREADABLE, address_network
from tests.ingestion.conftest import AppClient
from tests.ingestion.guessing.phones import phone

pytestmark = pytest.mark.django_db

BURST = 30  # GUESSING_NETWORK_BURST


def teredo(client: str) -> str:
    """A Teredo address (2001::/32) of the IPv4 client `client`, behind the server 65.54.227.120
    and UDP port 40000 (RFC 4380: the client's address and port are stored inverted)."""
    server = int(ipaddress.IPv4Address("65.54.227.120"))
    obfuscated = int(ipaddress.IPv4Address(client)) ^ 0xFFFFFFFF
    value = (0x20010000 << 96) | (server << 64) | (0x8000 << 48) | ((40000 ^ 0xFFFF) << 32)
    return str(ipaddress.IPv6Address(value | obfuscated))


@pytest.mark.parametrize(
    "written",
    [
        "203.0.113.7",
        "203.0.113.7:51234",
        " 203.0.113.7:1 ",
        "::ffff:203.0.113.7",
        "[::ffff:203.0.113.7]:443",
        "2002:cb00:7107::1",  # 6to4 of 203.0.113.7
        "[2002:cb00:7107:ffff::1]:51234",
        teredo("203.0.113.7"),
    ],
)
def test_every_way_of_writing_an_ipv4_client_is_its_24(written):
    assert address_network(written, ipv4_prefix=24, ipv6_prefix=48) == "203.0.113.0/24"


@pytest.mark.parametrize(
    "written",
    ["2001:db8:1:2::3", "[2001:db8:1:2::3]", "[2001:db8:1::3]:8443", "2001:db8:1::3%eth0"],
)
def test_every_way_of_writing_an_ipv6_client_is_its_48(written):
    assert address_network(written, ipv4_prefix=24, ipv6_prefix=48) == "2001:db8:1::/48"


@pytest.mark.parametrize(
    "written",
    [
        "",
        "unknown",
        "203.0.113.7:http",
        "[2001:db8::1",
        "[2001:db8::1]x",
        "203.0.113.7:1:2",
        "::1:x",
    ],
)
def test_anything_unreadable_is_the_one_shared_network(written):
    assert address_network(written, ipv4_prefix=24, ipv6_prefix=48) == UNREADABLE


def test_guesses_from_one_address_with_a_fresh_port_each_share_one_budget(
    regions, any_cache, clock
):
    # Azure Application Gateway writes "address:port" into X-Forwarded-For.
    statuses = Counter(
        phone(f"203.0.113.{n % 254 + 1}:{40000 + n}").check_otp(None).status_code
        for n in range(BURST + 10)
    )
    assert statuses == {401: BURST, 429: 10}
    assert phone("[2001:db8::1]:40000").check_otp(None).status_code == 401  # another network


def test_6to4_addresses_of_one_ipv4_24_share_its_budget(regions, any_cache, clock):
    # 2002:cb00:71xx::/48 embeds 203.0.113.xx: one IPv4 /24, not 40 IPv6 /48s.
    statuses = Counter(
        phone(f"2002:cb00:71{n:02x}::1").check_otp(None).status_code for n in range(BURST + 10)
    )
    assert statuses == {401: BURST, 429: 10}
    assert phone("203.0.113.200").check_otp(None).status_code == 429  # the same /24, as IPv4
    assert phone("2002:cb00:7200::1").check_otp(None).status_code == 401  # 203.0.114.0/24


def test_teredo_addresses_of_one_ipv4_24_share_its_budget(regions, any_cache, clock):
    statuses = Counter(
        phone(teredo(f"198.51.100.{n + 1}")).check_otp(None).status_code for n in range(BURST + 5)
    )
    assert statuses == {401: BURST, 429: 5}
    assert phone("198.51.100.250").check_otp(None).status_code == 429


def test_unreadable_addresses_share_one_budget(regions, any_cache, clock):
    statuses = Counter(phone(f"client-{n}").check_otp(None).status_code for n in range(BURST + 5))
    assert statuses == {401: BURST, 429: 5}
    assert phone("203.0.113.9").check_otp(None).status_code == 401


def test_a_forwarded_for_header_without_trusted_proxies_is_reported_once(
    regions, settings, clock, caplog, monkeypatch
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    monkeypatch.setattr(networks, "_warned_unused_forwarded_for", False)
    with caplog.at_level(logging.WARNING, logger="authority.ingestion.guessing.networks"):
        for n in range(3):
            AppClient(
                Client(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}")
            ).check_otp(None)
    warnings = [r.getMessage() for r in caplog.records if r.name == networks.__name__]
    assert len(warnings) == 1
    assert "TRUSTED_PROXY_COUNT is 0" in warnings[0]
    assert "203.0.113" not in caplog.text and "192.0.2.10" not in caplog.text


def test_no_warning_behind_trusted_proxies(regions, clock, caplog, monkeypatch):
    monkeypatch.setattr(networks, "_warned_unused_forwarded_for", False)
    with caplog.at_level(logging.WARNING, logger="authority.ingestion.guessing.networks"):
        phone("203.0.113.1").check_otp(None)
    assert not [r for r in caplog.records if r.name == networks.__name__]
