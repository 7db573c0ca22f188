"""The admin shows codes and keys without their secrets, and can revoke keys."""

from __future__ import annotations

import pytest

from authority.otps import services
from authority.otps.models import ApiKey
from tests.otps.conftest import days_ago

pytestmark = pytest.mark.django_db


def test_administrators_see_codes_without_hashes(administrator, operator, signed_in):
    issued = services.issue_otp(operator=operator, onset_date=days_ago(1))
    client = signed_in(administrator)
    listing = client.get("/admin/otps/otp/")
    detail = client.get(f"/admin/otps/otp/{issued.otp.pk}/change/")
    assert listing.status_code == detail.status_code == 200
    for page in (listing, detail):
        assert issued.otp.code_hmac not in page.content.decode()
        assert issued.code not in page.content.decode()


def test_administrators_revoke_keys_from_the_admin(administrator, signed_in, created_api_key):
    client = signed_in(administrator)
    assert (
        created_api_key.api_key.key_hash not in client.get("/admin/otps/apikey/").content.decode()
    )
    response = client.post(
        "/admin/otps/apikey/",
        {"action": "revoke", "_selected_action": [created_api_key.api_key.pk]},
        follow=True,
    )
    assert "1 key revoked." in response.content.decode()
    assert ApiKey.objects.get().revoked_by == administrator


def test_nobody_adds_keys_in_the_admin(administrator, signed_in):
    assert signed_in(administrator).get("/admin/otps/apikey/add/").status_code == 403
