"""A region an administrator switched off gives no codes: not from its staff, not from its
health information system's API keys. Its people keep their accounts and their history."""

from __future__ import annotations

import pytest

from authority.otps.models import Otp
from tests.otps.conftest import days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def lazio_switched_off(lazio):
    lazio.is_active = False
    lazio.save(update_fields=["is_active"])
    return lazio


def test_its_staff_can_no_longer_issue_or_authorize_codes(operator, signed_in, lazio_switched_off):
    client = signed_in(operator)
    assert client.get("/codes/issue/").status_code == 403
    form = {"code": "KJ23IWY5UJ", "onset_kind": "symptoms", "onset_date": days_ago(2).isoformat()}
    assert client.post("/codes/authorize/", form).status_code == 403
    assert not Otp.objects.exists()
    assert client.get("/codes/").status_code == 200  # their codes stay in view


def test_its_api_keys_can_no_longer_authorize_codes(his_client, lazio):
    body = {"otp": "59FU36KR46", "symptoms_started_on": days_ago(1).isoformat()}
    lazio.is_active = False
    lazio.save(update_fields=["is_active"])

    response = his_client.post("/v1/otp", body, format="json")

    assert response.status_code == 403
    assert set(response.json()) == {"error_code", "message"}
    assert not Otp.objects.exists()


def test_switched_on_again_it_gives_codes_again(operator, signed_in, lazio_switched_off):
    lazio_switched_off.is_active = True
    lazio_switched_off.save(update_fields=["is_active"])
    assert signed_in(operator).get("/codes/issue/").status_code == 200
