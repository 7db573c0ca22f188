"""Authorizing the code a patient's app shows (the Immuni flow)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from authority.formats.otp import otp_sha256_hex
from authority.otps import metrics, services
from authority.otps.models import OtpOrigin, OtpState
from tests.otps.conftest import counter, days_ago, stored

pytestmark = pytest.mark.django_db

APP_CODE = "KJ23IWY5UJ"  # valid: its check character matches (DESIGN.md 6)


def authorize(client, code=APP_CODE, *, onset=None, kind="symptoms"):
    data = {"code": code, "onset_kind": kind, "onset_date": (onset or days_ago(2)).isoformat()}
    return client.post("/codes/authorize/", data)


def test_it_authorizes_the_code_for_a_short_time(operator, signed_in, lazio):
    with time_machine.travel(timezone.now(), tick=False):
        response = authorize(signed_in(operator))
        assert response.status_code == 302
        assert response["Location"] == "/codes/"
        otp = stored(APP_CODE)
        assert otp.origin == OtpOrigin.AUTHORIZED
        assert otp.state == OtpState.PENDING
        assert otp.region == lazio
        assert otp.issued_by == operator
        assert otp.expires_at == timezone.now() + timedelta(minutes=30)
    assert services.check_otp(otp_sha256_hex=otp_sha256_hex(APP_CODE))


def test_it_confirms_with_the_reference_and_never_the_code(operator, signed_in):
    client = signed_in(operator)
    page = client.get(authorize(client)["Location"]).content.decode()
    assert f"Code {stored(APP_CODE).reference} authorized" in page
    assert APP_CODE not in page


def test_it_accepts_what_people_type_spaces_dashes_lowercase(operator, signed_in):
    response = authorize(signed_in(operator), "kj2 3iw-y5uj")
    assert response.status_code == 302
    assert response["Location"] == "/codes/"
    assert stored(APP_CODE).state == OtpState.PENDING


def test_it_says_a_wrong_check_character_is_probably_a_typo(operator, signed_in):
    response = authorize(signed_in(operator), "KJ23IWY5UK")
    assert response.status_code == 200
    assert "probably mistyped" in response.content.decode()
    assert not AuditEntry.objects.filter(action=Action.OTP_AUTHORIZED).exists()


def test_it_explains_a_code_of_the_wrong_length(operator, signed_in):
    page = authorize(signed_in(operator), "KJ23IWY5U").content.decode()
    assert "A code has 10 characters; this one has 9." in page


def test_it_names_a_character_codes_never_use(operator, signed_in):
    page = authorize(signed_in(operator), "KJ23IWY5U0").content.decode()
    assert "“0” is never used in codes" in page


def test_it_refuses_a_code_already_authorized_with_a_clear_conflict(
    operator, other_operator, signed_in
):
    authorize(signed_in(operator))
    response = authorize(signed_in(other_operator))
    assert response.status_code == 200
    assert "This code has already been authorized." in response.content.decode()
    assert stored(APP_CODE).issued_by == operator
    assert counter(metrics.OTP_AUTHORIZED) == 1


def test_it_rejects_a_date_in_the_future(operator, signed_in):
    page = authorize(signed_in(operator), onset=days_ago(-1)).content.decode()
    assert "cannot be in the future" in page


def test_authorized_codes_stop_working_after_the_configured_time(operator, signed_in, settings):
    settings.OTP_AUTHORIZED_TTL_MINUTES = 3
    authorize(signed_in(operator))
    code_hash = otp_sha256_hex(APP_CODE)
    with time_machine.travel(timezone.now() + timedelta(minutes=2, seconds=50)):
        assert services.check_otp(otp_sha256_hex=code_hash)
    with time_machine.travel(timezone.now() + timedelta(minutes=3, seconds=1)):
        assert not services.check_otp(otp_sha256_hex=code_hash)
        assert services.redeem_otp(otp_sha256_hex=code_hash) is None


def test_it_audits_and_counts_the_authorization(operator, signed_in, lazio):
    authorize(signed_in(operator))
    entry = AuditEntry.objects.get(action=Action.OTP_AUTHORIZED)
    assert entry.actor == operator
    assert APP_CODE not in entry.target + str(entry.details)
    assert counter(metrics.OTP_AUTHORIZED, region_id=lazio.pk, operator_id=operator.pk) == 1
