"""An issue form refused for the daily quota: no code was shown, so the same form still works."""

from __future__ import annotations

import re

import pytest

from authority.otps.models import Otp
from tests.otps.conftest import CODE_ON_PAGE, days_ago, stored

pytestmark = pytest.mark.django_db


def fill_in_issue_form(client, *, onset, kind="test"):
    token = client.get("/codes/issue/").context["form"].initial["form_token"]
    return {"form_token": token, "onset_kind": kind, "onset_date": onset.isoformat()}


@pytest.fixture
def at_quota(operator, signed_in, issue_on_page, settings):
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 1
    client = signed_in(operator)
    issue_on_page(client)
    return client


def test_a_refused_form_shows_the_refusal_and_keeps_what_was_entered(at_quota):
    data = fill_in_issue_form(at_quota, onset=days_ago(4))

    response = at_quota.post("/codes/issue/", data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "You have reached your limit of 1 codes for today." in page
    assert f'value="{days_ago(4).isoformat()}"' in page
    assert re.search(r'<input[^>]*value="test"[^>]*checked', page)
    assert response.context["form"]["form_token"].value() == data["form_token"]
    assert Otp.objects.count() == 1


def test_the_refused_form_issues_its_code_once_the_quota_is_raised(at_quota, settings):
    data = fill_in_issue_form(at_quota, onset=days_ago(4))
    at_quota.post("/codes/issue/", data)
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 2

    response = at_quota.post("/codes/issue/", data)  # sent again as the page shows it

    page = response.content.decode()
    assert response.status_code == 200
    assert "That form had already been sent" not in page
    code = CODE_ON_PAGE.search(page).group(1)
    assert stored(code).onset_date == days_ago(4)
    assert Otp.objects.count() == 2


def test_the_form_sent_after_the_raise_still_works_only_once(at_quota, settings):
    data = fill_in_issue_form(at_quota, onset=days_ago(4))
    at_quota.post("/codes/issue/", data)
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 5
    at_quota.post("/codes/issue/", data)

    again = at_quota.post("/codes/issue/", data)

    assert again.status_code == 302
    assert "That form had already been sent" in at_quota.get(again["Location"]).content.decode()
    assert Otp.objects.count() == 2
