"""An app client that behaves like Immuni: headers, padding, real and dummy requests."""

from __future__ import annotations

import json
import os
import secrets
from base64 import b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypedDict
from wsgiref.types import WSGIEnvironment

import pytest
from django.test import Client
from django.utils import timezone

from authority.formats.otp import generate_otp, otp_sha256_hex
from authority.otps.services import authorize_otp


def todays_interval() -> int:
    """The first 10-minute interval of today (UTC), as GAEN numbers them."""
    now = int(timezone.now().timestamp()) // 600
    return now // 144 * 144


class Tek(TypedDict):
    """A Temporary Exposure Key as the app uploads it."""

    key_data: str
    rolling_start_number: int
    rolling_period: int


def make_teks(count: int = 14) -> list[Tek]:
    """One key per day, today's first, as a phone would hold them."""
    today = todays_interval()
    return [
        {
            "key_data": b64encode(os.urandom(16)).decode(),
            "rolling_start_number": today - 144 * day,
            "rolling_period": 144,
        }
        for day in range(count)
    ]


def upload_body(
    teks: Sequence[object] | None = None, province: str = "RM", **extra: object
) -> dict[str, object]:
    return {
        "province": province,
        "teks": make_teks() if teks is None else teks,
        "exposure_detection_summaries": [],
        "padding": secrets.token_hex(64),
        **extra,
    }


@dataclass
class AppClient:
    """What the Immuni app sends; `dummy=True` marks cover traffic."""

    client: Client

    def post(
        self, path: str, body: object, *, otp: str | None, dummy: bool = False, **headers: str
    ):
        bearer = otp_sha256_hex(otp) if otp else secrets.token_hex(32)
        sent: WSGIEnvironment = {
            "HTTP_AUTHORIZATION": f"Bearer {bearer}",
            "HTTP_IMMUNI_DUMMY_DATA": "1" if dummy else "0",
            "HTTP_IMMUNI_CLIENT_CLOCK": str(int(timezone.now().timestamp())),
            **headers,
        }
        return self.client.post(
            path, data=json.dumps(body), content_type="application/json", **sent
        )

    def check_otp(self, otp: str | None, *, dummy: bool = False):
        return self.post(
            "/v1/ingestion/check-otp", {"padding": secrets.token_hex(32)}, otp=otp, dummy=dummy
        )

    def upload(
        self,
        otp: str | None,
        body: dict[str, object] | None = None,
        *,
        dummy: bool = False,
        **headers: str,
    ):
        return self.post(
            "/v1/ingestion/upload", body or upload_body(), otp=otp, dummy=dummy, **headers
        )


@pytest.fixture
def app_client(db: None) -> AppClient:
    return AppClient(Client())


@pytest.fixture
def authorized_otp(operator) -> str:
    """A code an operator authorized for a patient whose symptoms began 3 days ago."""
    code = generate_otp()
    authorize_otp(code=code, onset_date=timezone.localdate() - timedelta(days=3), operator=operator)
    return code
