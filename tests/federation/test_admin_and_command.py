"""Administrators read the federation's records in the admin; operations run it with `manage.py federation_sync`."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from authority.accounts.models import User
from authority.federation.models import InboundBatch, InboundChunk
from authority.formats.efgs.signing import thumbprint
from tests.federation.conftest import GatewayHandle, foreign_key


def test_federation_sync_runs_both_directions(db: None, federation: GatewayHandle) -> None:
    assert federation.upload_as([foreign_key()]).status_code == 201
    federation.batch()
    out = StringIO()
    call_command("federation_sync", stdout=out)
    text = out.getvalue()
    assert "signing: " in text and "Upload run" in text and "Download run" in text
    assert "1 received" in text


def test_federation_sync_refuses_when_off(db: None, settings: Any) -> None:
    settings.FEDERATION_GATEWAY_URL = ""
    with pytest.raises(CommandError, match="Federation is off"):
        call_command("federation_sync", "--check")


def test_administrators_see_refused_parts_of_received_batches(
    db: None, administrator: User, signed_in: Callable[[User], Client]
) -> None:
    batch = InboundBatch.objects.create(
        batch_tag="20261203-7", batch_date="2026-12-03", status=InboundBatch.Status.PARTLY_REFUSED,
        keys_received=5, keys_refused=3,
    )  # fmt: skip
    InboundChunk.objects.create(batch=batch, position=0, country="DE", key_count=3, verified=False,
                                reason="signature", message="the signature does not verify")  # fmt: skip
    client = signed_in(administrator)
    listing = client.get("/admin/federation/inboundbatch/?refused=yes")
    assert listing.status_code == 200
    assert "20261203-7" in listing.content.decode()
    page = client.get(f"/admin/federation/inboundbatch/{batch.pk}/change/")
    assert "the signature does not verify" in page.content.decode()
    assert client.get("/admin/federation/federationrun/").status_code == 200
    assert client.get("/admin/federation/outboundbatch/").status_code == 200


def test_federation_sync_check_prints_the_callback_certificate_the_gateway_must_register(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    # The gateway's callback client trusts our server only by a registered SHA-256
    # (EfgsCallbackTrustManager): --check says which. Here the test gateway's own TLS
    # server stands in for our callback host.
    port = federation.url.rsplit(":", 1)[1]
    settings.FEDERATION_CALLBACK_URL = f"https://localhost:{port}/v1/federation/callback"
    settings.FEDERATION_CALLBACK_VERIFY_HEADER = "X-SSL-Client-Verify"
    out, err = StringIO(), StringIO()
    call_command("federation_sync", "--check", stdout=out, stderr=err)
    served = thumbprint(federation.pki["server"].certificate)
    assert f"SHA-256 {served}" in out.getvalue()
    assert "register this thumbprint as an AUTHENTICATION certificate" in out.getvalue()
    assert err.getvalue() == ""
    assert federation.state()["requests"] == []  # a check sends nothing to the gateway


def test_federation_sync_check_says_why_a_callback_url_cannot_be_registered(
    db: None, federation: GatewayHandle, settings: Any
) -> None:
    settings.FEDERATION_CALLBACK_URL = "https://callback.example.test/notify?key=1"
    err = StringIO()
    call_command("federation_sync", "--check", stdout=StringIO(), stderr=err)
    assert "refuses a query string" in err.getvalue()
