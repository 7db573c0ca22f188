"""Details of signing in people meet: how long the second factor's throttle makes them wait,
the way back to their page after a session ended, and reset links kept out of the logs."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authority.accounts.services.sign_in import replace_backup_codes
from authority.operations.logging import RedactSecrets, loggable_path
from tests.conftest import PASSWORD, current_code, enroll_authenticator

pytestmark = pytest.mark.django_db


def at_verify(client: Client, username: str) -> None:
    client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})


def wrong_code(client: Client) -> str:
    page = client.post(reverse("accounts:verify"), {"token": "000000"}).content.decode()
    return html.unescape(
        re.search(r'invalid-feedback d-block" role="alert">(.*?)</div>', page, re.S).group(1)
    )


def test_a_first_wrong_code_just_says_it_is_wrong(operator):
    enroll_authenticator(operator)
    client = Client()
    at_verify(client, operator.username)
    assert wrong_code(client) == "That code is not valid. Codes change every 30 seconds."


def test_after_several_wrong_codes_the_message_says_how_long_to_wait_and_that_backup_codes_wait(
    operator,
):
    device = enroll_authenticator(operator)
    codes = replace_backup_codes(user=operator)
    client = Client()
    at_verify(client, operator.username)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(3):
            wrong_code(client)
            traveller.shift(timedelta(seconds=10))  # each wait (1, 2, 4 s) has passed
        message = wrong_code(client)  # the 4th: the next attempt waits 8 s
        until = timezone.localtime(timezone.now() + timedelta(seconds=8))
        assert message.startswith("Too many wrong codes. Wait 8 seconds (until ")
        assert until.strftime("%H:%M:%S") in message
        assert "Backup codes wait too." in message

        # During the wait even the right code, or a backup code, is refused with the wait.
        traveller.shift(timedelta(seconds=3))
        refused = client.post(reverse("accounts:verify"), {"token": codes[0]})
        assert "Wait 5 seconds" in refused.content.decode()
        traveller.shift(timedelta(seconds=6))
        accepted = client.post(reverse("accounts:verify"), {"token": current_code(device)})
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("home")


def test_a_long_wait_is_said_in_minutes(operator):
    device = enroll_authenticator(operator)
    device.throttling_failure_count = 9  # the next attempt waits 256 s
    device.throttling_failure_timestamp = timezone.now()
    device.save()
    client = Client()
    at_verify(client, operator.username)
    assert "Wait 5 minutes (until " in wrong_code(client)


# ---------------------------------------------------------------- back to the page after expiry


def test_after_a_session_ended_the_login_returns_to_the_page_the_person_was_on(operator, signed_in):
    device = enroll_authenticator(operator)
    client = signed_in(operator)
    Session.objects.all().delete()  # the session ended (idle in another tab)
    # What the page's script does when the idle time is over: the login page, with where it was.
    wanted = "/codes/?state=pending&page=2"
    login_page = client.get(reverse("accounts:login"), {"expired": "1", "next": wanted})
    assert "logged out after a period of inactivity" in login_page.content.decode()
    to_verify = client.post(
        reverse("accounts:login"),
        {"username": operator.username, "password": PASSWORD, "next": wanted},
    )["Location"]
    done = client.post(to_verify, {"token": current_code(device)})
    assert done["Location"] == wanted


def test_a_form_sent_after_the_session_ended_returns_to_the_page_it_was_sent_from(operator):
    client = Client()
    response = client.post(
        "/accounts/people/7/deactivate/", HTTP_REFERER="http://testserver/codes/?page=2"
    )
    assert response["Location"] == "/accounts/login/?next=%2Fcodes%2F%3Fpage%3D2"
    foreign = client.post("/codes/issue/", HTTP_REFERER="https://evil.example/codes/")
    assert foreign["Location"] == "/accounts/login/?next=%2Fcodes%2Fissue%2F"


@pytest.mark.parametrize(
    "foreign",
    ["https://evil.example/", "//evil.example/codes/", "/\\evil.example", "javascript:alert(1)"],
)
def test_the_way_back_stays_on_this_site(operator, foreign):
    device = enroll_authenticator(operator)
    client = Client()
    to_verify = client.post(
        reverse("accounts:login") + "?expired=1",
        {"username": operator.username, "password": PASSWORD, "next": foreign},
    )["Location"]
    assert client.post(to_verify, {"token": current_code(device)})["Location"] == "/"


def test_a_tab_whose_timer_ran_out_while_the_session_lives_goes_straight_back(operator, signed_in):
    client = signed_in(operator)
    response = client.get(reverse("accounts:login"), {"expired": "1", "next": "/codes/"})
    assert response["Location"] == "/codes/"


# ---------------------------------------------------------------- reset links in the logs


def test_reset_links_are_logged_without_their_secrets():
    link = "/accounts/password-reset/MTI/cfx2lo-0a1b2c3d4e5f60718293a4b5c6d7e8f9/"
    assert loggable_path(link) == "/accounts/password-reset/<uidb64>/<token>/"
    assert (
        loggable_path("/accounts/password-reset/MTI/set-password/")
        == "/accounts/password-reset/<uidb64>/<token>/"
    )
    # The pages without a secret stay readable.
    assert loggable_path("/accounts/password-reset/") == "/accounts/password-reset/"
    assert loggable_path("/accounts/password-reset/sent/") == "/accounts/password-reset/sent/"
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Bad Request: %s", (link,), None
    )
    RedactSecrets().filter(record)
    assert "cfx2lo" not in record.getMessage() and "MTI" not in record.getMessage()
