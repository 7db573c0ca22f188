"""Rotating OTP_HMAC_KEY: codes given before the rotation keep working until they expire,
as long as the previous key is in OTP_HMAC_KEY_FALLBACKS."""

from __future__ import annotations

import pytest

from authority.formats.otp import otp_sha256_hex
from authority.otps.models import Otp, OtpState
from tests.ingestion.conftest import AppClient, app_client
from tests.otps.conftest import days_ago

__all__ = ["app_client"]

pytestmark = pytest.mark.django_db

APP_CODE = "KJ23IWY5UJ"  # valid: its check character matches (DESIGN.md 6)
OLD_KEY = "old-otp-hmac-key-for-the-rotation-test-0123456789"
NEW_KEY = "new-otp-hmac-key-for-the-rotation-test-0123456789"


@pytest.fixture
def code_given_before_rotation(settings, operator, signed_in, issue_on_page) -> str:
    settings.OTP_HMAC_KEY = OLD_KEY
    return issue_on_page(signed_in(operator))


def test_a_code_given_before_the_rotation_still_unlocks_the_upload(
    settings, code_given_before_rotation, app_client: AppClient
):
    settings.OTP_HMAC_KEY = NEW_KEY
    settings.OTP_HMAC_KEY_FALLBACKS = [OLD_KEY]

    assert app_client.check_otp(code_given_before_rotation).status_code == 204
    assert app_client.upload(code_given_before_rotation).status_code == 204
    assert app_client.upload(code_given_before_rotation).status_code == 401  # used once only
    assert Otp.objects.get().state == OtpState.REDEEMED


def test_without_the_previous_key_the_code_is_unknown(
    settings, code_given_before_rotation, app_client: AppClient
):
    settings.OTP_HMAC_KEY = NEW_KEY

    assert app_client.check_otp(code_given_before_rotation).status_code == 401
    assert app_client.upload(code_given_before_rotation).status_code == 401
    assert Otp.objects.get().state == OtpState.PENDING


def test_codes_given_after_the_rotation_are_kept_under_the_new_key(
    settings, operator, signed_in, issue_on_page, app_client: AppClient
):
    settings.OTP_HMAC_KEY = NEW_KEY
    settings.OTP_HMAC_KEY_FALLBACKS = [OLD_KEY]
    code = issue_on_page(signed_in(operator))

    settings.OTP_HMAC_KEY_FALLBACKS = []  # the rotation is over: the old key is gone
    assert app_client.upload(code).status_code == 204


def test_a_code_authorized_before_the_rotation_cannot_be_authorized_again(
    settings, operator, other_operator, signed_in
):
    form = {"code": APP_CODE, "onset_kind": "symptoms", "onset_date": days_ago(2).isoformat()}
    settings.OTP_HMAC_KEY = OLD_KEY
    response = signed_in(operator).post("/codes/authorize/", form)
    assert response.status_code == 302
    assert response["Location"] == "/codes/"
    settings.OTP_HMAC_KEY = NEW_KEY
    settings.OTP_HMAC_KEY_FALLBACKS = [OLD_KEY]

    response = signed_in(other_operator).post("/codes/authorize/", form)

    assert response.status_code == 200
    assert "This code has already been authorized." in response.content.decode()
    assert Otp.objects.count() == 1  # one row: the code can be used once, not twice
    assert otp_sha256_hex(APP_CODE) not in response.content.decode()
