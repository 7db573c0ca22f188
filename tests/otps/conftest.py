"""Fixtures of the code tests: an HIS client with a Lazio API key, and helpers to issue codes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from authority.accounts.models import User
from authority.formats.otp import otp_sha256_hex
from authority.otps import services
from authority.otps.models import Otp
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day

CODE_ON_PAGE = re.compile(r'data-copy-value="([A-Z1-9]{10})"')


def days_ago(days: int) -> date:
    return local_day() - timedelta(days=days)


def stored(code: str) -> Otp:
    """The row of a code, found the way the device API finds it."""
    return Otp.objects.get(code_hmac=services.keyed_hash(otp_sha256_hex(code)))


def counter(metric: str, **key: object) -> int:
    return sum(DailyCounter.objects.filter(metric=metric, **key).values_list("value", flat=True))


@pytest.fixture
def created_api_key(supervisor: User, lazio) -> services.CreatedApiKey:
    return services.create_api_key(actor=supervisor, region=lazio, name="HIS Lazio")


@pytest.fixture
def his_client(created_api_key: services.CreatedApiKey) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {created_api_key.key}")
    return client


@pytest.fixture
def issue_on_page() -> Callable[[Client], str]:
    """Go through the issue form as a person would; return the code the page shows."""

    def issue(client: Client, *, onset: date | None = None, kind: str = "symptoms") -> str:
        form = client.get("/codes/issue/").context["form"]
        response = client.post(
            "/codes/issue/",
            {
                "form_token": form.initial["form_token"],
                "onset_kind": kind,
                "onset_date": (onset or days_ago(2)).isoformat(),
            },
        )
        assert response.status_code == 200
        match = CODE_ON_PAGE.search(response.content.decode())
        assert match, response.content.decode()
        return match.group(1)

    return issue
