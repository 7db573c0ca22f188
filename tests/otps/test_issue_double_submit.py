"""One issue form sent twice at once (double click, a reload mid-request) issues one code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponseBase
from django.test import Client

from authority.otps import services, views
from authority.otps.models import Otp
from tests.otps.conftest import CODE_ON_PAGE, days_ago

pytestmark = pytest.mark.django_db

# Where a form sent again is sent back: a new issue form, with a message saying why.
ISSUE_FORM = "/codes/issue/"


@dataclass
class DoubleSubmit:
    data: dict[str, str]
    second_client: Client
    first: HttpResponseBase | None = None
    second: HttpResponseBase | None = None


@pytest.fixture
def sent_twice_at_once(operator, signed_in, monkeypatch) -> DoubleSubmit:
    """Send one form from two connections of a browser, the second arriving while the first
    has accepted the form's token but not yet saved its session (it is issuing the code)."""
    first_client = signed_in(operator)
    second_client = Client()
    cookie = settings.SESSION_COOKIE_NAME
    second_client.cookies[cookie] = first_client.cookies[cookie].value
    token = first_client.get("/codes/issue/").context["form"].initial["form_token"]
    sent = DoubleSubmit(
        data={"form_token": token, "onset_kind": "symptoms", "onset_date": days_ago(1).isoformat()},
        second_client=second_client,
    )
    issue_otp = services.issue_otp
    arrived = False

    def issue_while_the_form_arrives_again(**kwargs: Any) -> services.IssuedOtp:
        nonlocal arrived
        if not arrived:
            arrived = True
            sent.second = second_client.post("/codes/issue/", sent.data)
        return issue_otp(**kwargs)

    monkeypatch.setattr(services, "issue_otp", issue_while_the_form_arrives_again)
    sent.first = first_client.post("/codes/issue/", sent.data)
    monkeypatch.setattr(services, "issue_otp", issue_otp)
    return sent


def test_a_form_sent_twice_at_once_issues_one_code(sent_twice_at_once):
    assert Otp.objects.count() == 1
    assert CODE_ON_PAGE.search(sent_twice_at_once.first.content.decode())


def test_the_second_sending_says_the_code_was_shown_once(sent_twice_at_once):
    second = sent_twice_at_once.second
    assert second.status_code == 302
    assert second["Location"] == ISSUE_FORM
    followed = sent_twice_at_once.second_client.get(second["Location"]).content.decode()
    assert "That form had already been sent" in followed
    assert not CODE_ON_PAGE.search(followed)


def test_the_request_that_lost_cannot_bring_the_form_back_by_saving_last(
    operator, signed_in, monkeypatch
):
    client = signed_in(operator)
    other_connection = Client()
    cookie = settings.SESSION_COOKIE_NAME
    other_connection.cookies[cookie] = client.cookies[cookie].value
    token = client.get("/codes/issue/").context["form"].initial["form_token"]
    data = {"form_token": token, "onset_kind": "symptoms", "onset_date": days_ago(1).isoformat()}

    class CacheLettingTheOtherRequestIn:
        # This request has read the token in its session; the other one spends it meanwhile.
        def add(self, *args: Any, **kwargs: Any) -> bool:
            monkeypatch.setattr(views, "cache", cache)
            shown = other_connection.post("/codes/issue/", data).content.decode()
            assert CODE_ON_PAGE.search(shown)
            return cache.add(*args, **kwargs)

    monkeypatch.setattr(views, "cache", CacheLettingTheOtherRequestIn())
    lost = client.post("/codes/issue/", data)  # lost; saves its session last
    assert lost.status_code == 302 and lost["Location"] == ISSUE_FORM
    cache.clear()  # the spent mark expired or was culled: the session alone must refuse

    refused = client.post("/codes/issue/", data)
    assert refused.status_code == 302 and refused["Location"] == ISSUE_FORM
    followed = client.get(refused["Location"]).content.decode()
    assert "That form had already been sent" in followed
    assert not CODE_ON_PAGE.search(followed)
    assert Otp.objects.count() == 1
