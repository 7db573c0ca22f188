"""Issuing a code in the browser: shown once, only a keyed hash kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from authority.formats.otp import is_valid_otp
from authority.formats.phonetic import ENGLISH, ITALIAN
from authority.otps import metrics
from authority.otps.models import OnsetKind, Otp, OtpOrigin, OtpState
from tests.otps.conftest import CODE_ON_PAGE, counter, days_ago, stored

pytestmark = pytest.mark.django_db


def post_issue(client, *, onset=None, kind="symptoms", token=None):
    token = token or client.get("/codes/issue/").context["form"].initial["form_token"]
    data = {
        "form_token": token,
        "onset_kind": kind,
        "onset_date": (onset or days_ago(1)).isoformat(),
    }
    return client.post("/codes/issue/", data)


def test_it_shows_the_form_with_both_kinds_of_date(operator, signed_in):
    response = signed_in(operator).get("/codes/issue/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "The patient has symptoms" in page
    assert "The patient has no symptoms" in page
    assert 'type="date"' in page
    assert "no-store" in response["Cache-Control"]


def test_it_shows_the_new_code_once_grouped_with_qr_and_spelling(operator, signed_in):
    response = post_issue(signed_in(operator))
    page = response.content.decode()
    code = CODE_ON_PAGE.search(page).group(1)
    assert is_valid_otp(code)
    assert "no-store" in response["Cache-Control"]
    assert (
        f'<span class="otp-group">{code[:3]}</span><span class="otp-group">{code[3:6]}</span>'
        in page
    )
    assert 'src="data:image/svg+xml' in page
    for char in code:
        assert ENGLISH[char] in page
    assert "data-expires-at=" in page


def test_it_stores_only_the_keyed_hash_with_onset_region_issuer_and_expiry(
    operator, signed_in, lazio
):
    with time_machine.travel(timezone.now(), tick=False):
        code = CODE_ON_PAGE.search(
            post_issue(signed_in(operator), onset=days_ago(3)).content.decode()
        ).group(1)
        otp = stored(code)
        assert otp.state == OtpState.PENDING
        assert otp.origin == OtpOrigin.ISSUED
        assert otp.onset_date == days_ago(3)
        assert otp.region == lazio
        assert otp.issued_by == operator
        assert otp.expires_at == timezone.now() + timedelta(hours=24)
    assert code not in otp.code_hmac


def test_reloading_never_shows_the_code_again(operator, signed_in):
    client = signed_in(operator)
    token = client.get("/codes/issue/").context["form"].initial["form_token"]
    first = post_issue(client, token=token)
    code = CODE_ON_PAGE.search(first.content.decode()).group(1)

    again = post_issue(client, token=token)  # the browser resends the same form
    assert again.status_code == 302
    assert Otp.objects.count() == 1
    followed = client.get(again["Location"]).content.decode()
    assert "That form had already been sent" in followed
    assert code not in followed
    assert code not in client.get("/codes/issue/").content.decode()
    assert code not in str(dict(client.session))


def test_it_spells_the_code_in_italian_when_the_interface_is_italian(operator, signed_in):
    client = signed_in(operator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    page = post_issue(client).content.decode()
    code = CODE_ON_PAGE.search(page).group(1)
    for char in code:
        assert ITALIAN[char] in page


def test_it_rejects_a_future_date(operator, signed_in):
    response = post_issue(signed_in(operator), onset=days_ago(-1))
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert not Otp.objects.exists()


def test_it_rejects_a_date_older_than_the_window(operator, signed_in, settings):
    settings.OTP_ONSET_MAX_AGE_DAYS = 10
    response = post_issue(signed_in(operator), onset=days_ago(11))
    assert "more than 10 days ago" in response.content.decode()
    assert not Otp.objects.exists()
    assert post_issue(signed_in(operator), onset=days_ago(10)).status_code == 200


def test_it_accepts_the_test_date_for_patients_without_symptoms(operator, signed_in):
    page = post_issue(signed_in(operator), kind="test").content.decode()
    otp = stored(CODE_ON_PAGE.search(page).group(1))
    assert otp.onset_kind == OnsetKind.TEST


def test_issued_codes_expire_after_the_configured_time(operator, signed_in, settings):
    settings.OTP_ISSUED_TTL_HOURS = 2
    with time_machine.travel(timezone.now(), tick=False):
        code = CODE_ON_PAGE.search(post_issue(signed_in(operator)).content.decode()).group(1)
        assert stored(code).expires_at == timezone.now() + timedelta(hours=2)


def test_it_audits_the_issue_without_the_code(operator, signed_in):
    code = CODE_ON_PAGE.search(post_issue(signed_in(operator)).content.decode()).group(1)
    entry = AuditEntry.objects.get(action=Action.OTP_ISSUED)
    assert entry.actor == operator
    assert entry.region == operator.region
    assert entry.target == stored(code).reference
    assert code not in str(entry.details) + entry.target


def test_it_counts_the_issue_per_region_and_operator(operator, signed_in, lazio):
    post_issue(signed_in(operator))
    assert counter(metrics.OTP_ISSUED, region_id=lazio.pk, operator_id=operator.pk) == 1


def test_the_issue_page_says_how_many_codes_the_operator_gave_today(operator, signed_in, settings):
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 40
    client = signed_in(operator)
    post_issue(client)
    assert "Codes you gave today: 1 of 40." in client.get("/codes/issue/").content.decode()
