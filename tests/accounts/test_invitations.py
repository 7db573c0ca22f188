"""An invitation link is a secret: its token is in one request only, and the link works once,
for three days, in the browser that opened it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from authority.accounts.models import Role, User
from authority.accounts.services.invitations import invitation_path
from authority.audit.models import Action, AuditEntry

pytestmark = pytest.mark.django_db

STRONG = "a long and quiet river at dawn"


@pytest.fixture
def invitee(lazio) -> User:
    user = User(username="new-operator", role=Role.OPERATOR, region=lazio)
    user.set_unusable_password()
    user.save()
    return user


def uidb64(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def choose(client: Client, path: str, password: str = STRONG):
    return client.post(path, {"new_password1": password, "new_password2": password})


def test_opening_the_link_moves_to_an_address_without_the_token(invitee):
    link = invitation_path(invitee)
    token = link.rstrip("/").rsplit("/", 1)[1]
    browser = Client()
    response = browser.get(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:choose_password", args=[uidb64(invitee)])
    assert token not in response["Location"]
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert "Choose a password for the account" in page.content.decode()
    assert token not in page.content.decode()
    assert "no-store" in page["Cache-Control"]


def test_the_password_is_chosen_on_the_address_without_the_token(invitee):
    browser = Client()
    path = browser.get(invitation_path(invitee))["Location"]
    response = choose(browser, path)
    assert response["Location"] == reverse("accounts:login")
    invitee.refresh_from_db()
    assert invitee.check_password(STRONG)
    assert AuditEntry.objects.filter(action=Action.PASSWORD_SET, actor=invitee).count() == 1


def test_the_page_works_once(invitee):
    link = invitation_path(invitee)
    browser = Client()
    path = browser.get(link)["Location"]
    choose(browser, path)
    again = choose(browser, path, "another long sentence of mine")
    assert again.status_code == 400
    assert browser.get(path).status_code == 400
    reopened = browser.get(link)
    assert reopened.status_code == 400
    assert "This invitation link does not work" in reopened.content.decode()
    assert Client().get(link).status_code == 400
    invitee.refresh_from_db()
    assert invitee.check_password(STRONG)


def test_the_form_is_refused_to_a_browser_that_did_not_open_the_link(invitee):
    Client().get(invitation_path(invitee))
    stranger = Client()
    path = reverse("accounts:choose_password", args=[uidb64(invitee)])
    page = stranger.get(path)
    assert page.status_code == 400
    # The link itself still works: the page says to open it again, not to ask for a new one.
    assert "Open your invitation link again" in page.content.decode()
    assert choose(stranger, path).status_code == 400
    invitee.refresh_from_db()
    assert not invitee.has_usable_password()


def test_a_password_posted_to_the_link_itself_is_not_taken(invitee):
    # Browsers post to the address without the token; the link only leads there.
    browser = Client()
    response = choose(browser, invitation_path(invitee))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:choose_password", args=[uidb64(invitee)])
    invitee.refresh_from_db()
    assert not invitee.has_usable_password()


def after(days: float):
    """A time `days` days from now (a day's margin either side of the link's 3 days: Django's
    tokens count in local time, time_machine travels in UTC)."""
    return time_machine.travel(timezone.now() + timedelta(days=days), tick=False)


def test_a_link_works_within_its_three_days(invitee):
    link = invitation_path(invitee)
    browser = Client()
    with after(2):
        assert choose(browser, browser.get(link)["Location"]).status_code == 302
    invitee.refresh_from_db()
    assert invitee.check_password(STRONG)


def test_an_expired_link_is_refused(invitee):
    link = invitation_path(invitee)
    assert settings.PASSWORD_RESET_TIMEOUT == 3 * 24 * 3600  # what the invitation page promises
    with after(4):
        response = Client().get(link)
    assert response.status_code == 400
    assert "This invitation link does not work" in response.content.decode()


def test_a_link_that_expires_after_being_opened_sets_no_password(invitee, settings):
    settings.SESSION_COOKIE_AGE = 10 * 24 * 3600  # the session outlives the link here
    browser = Client()
    path = browser.get(invitation_path(invitee))["Location"]
    with after(4):
        assert choose(browser, path).status_code == 400
    invitee.refresh_from_db()
    assert not invitee.has_usable_password()


def test_a_made_up_token_is_refused_and_leaves_nothing_in_the_session(invitee):
    browser = Client()
    response = browser.get(
        reverse("accounts:accept_invitation", args=[uidb64(invitee), "abc-0123456789abcdef"])
    )
    assert response.status_code == 400
    assert (
        browser.get(reverse("accounts:choose_password", args=[uidb64(invitee)])).status_code == 400
    )


def test_two_invitations_opened_in_one_browser_both_work(invitee, lazio):
    second = User(username="second-operator", role=Role.OPERATOR, region=lazio)
    second.set_unusable_password()
    second.save()
    browser = Client()
    first_path = browser.get(invitation_path(invitee))["Location"]
    second_path = browser.get(invitation_path(second))["Location"]
    choose(browser, first_path)
    choose(browser, second_path, "the second sentence is long too")
    invitee.refresh_from_db()
    second.refresh_from_db()
    assert invitee.check_password(STRONG)
    assert second.check_password("the second sentence is long too")


def test_a_deactivated_persons_link_is_refused(invitee):
    browser = Client()
    path = browser.get(invitation_path(invitee))["Location"]
    User.objects.filter(pk=invitee.pk).update(is_active=False)
    assert choose(browser, path).status_code == 400
    invitee.refresh_from_db()
    assert not invitee.has_usable_password()
