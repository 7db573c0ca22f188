"""Phones on networks, reaching the device API through the trusted proxy, and a frozen clock."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta

from django.test import Client
from django.utils import timezone

from authority.accounts.models import User
from authority.formats.otp import generate_otp
from authority.otps.services import authorize_otp
from authority.statistics.models import DailyCounter
from tests.ingestion.conftest import AppClient

# The load balancer in front of the web servers; it appends the address it saw to
# X-Forwarded-For (TRUSTED_PROXY_COUNT=1).
PROXY = "192.0.2.10"
# Early on a UTC day: simulated hours stay on one day (network tokens rotate at midnight UTC).
MORNING = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def phone(address: str) -> AppClient:
    """An app at `address`, as the proxy passes it on: the phone itself may have written
    anything in X-Forwarded-For; the proxy's entry comes last."""
    made_up = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(256)}"
    return AppClient(Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{made_up}, {address}"))


def on_network(network: int, host: int) -> AppClient:
    """Host `host` of the IPv4 /24 number `network` (203.0.113.0/24 is 0; all made up)."""
    return phone(f"100.{64 + network // 256}.{network % 256}.{host % 254 + 1}")


def guess_from(network: int, count: int, *, first_host: int = 0) -> Counter[int]:
    """`count` guessed codes from one network, each from the next address of the /24 (so the
    per-address request rate never binds): the statuses they got."""
    return Counter(
        on_network(network, first_host + n).check_otp(None).status_code for n in range(count)
    )


def authorized_code(operator: User) -> str:
    """A code an operator authorizes now (in the frozen time)."""
    code = generate_otp()
    authorize_otp(code=code, onset_date=timezone.localdate() - timedelta(days=2), operator=operator)
    return code


def lookups_that_failed() -> int:
    """Failed lookups the server made, from the statistics (each one a guess evaluated)."""
    return sum(
        DailyCounter.objects.filter(metric="failed_otp_checks").values_list("value", flat=True)
    )
