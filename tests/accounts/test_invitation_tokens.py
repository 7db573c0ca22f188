"""A renewed invitation revokes the earlier link, and an invitation's token is its own kind
(review 12, finding 5: a renewed invitation left the lost link working for three days)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from authority.accounts.models import Role, User
from authority.accounts.services.invitations import (
    invitation_tokens,
    invite_user,
    invited_user,
    renew_invitation,
)

pytestmark = pytest.mark.django_db

STRONG = "a long pass phrase for the test 42"


def choose_password_through(link: str) -> Client:
    browser = Client()
    opened = browser.get(link)
    if opened.status_code == 302:
        browser.post(opened["Location"], {"new_password1": STRONG, "new_password2": STRONG})
    return browser


def test_renewing_an_invitation_revokes_the_earlier_link(supervisor, lazio):
    with time_machine.travel(timezone.now() - timedelta(days=1)):
        lost = invite_user(
            actor=supervisor,
            username="newcomer",
            first_name="New",
            last_name="Comer",
            email="newcomer@example.org",
            role=Role.OPERATOR,
            region=lazio,
        )
    renewed = renew_invitation(actor=supervisor, user=lost.user)
    assert renewed.path != lost.path

    finder = Client()  # whoever found the lost link
    opened = finder.get(lost.path)
    assert opened.status_code == 400
    assert "This invitation link does not work" in opened.content.decode()
    choose_password_through(lost.path)
    assert not User.objects.get(pk=lost.user.pk).has_usable_password()

    # The renewed link works.
    choose_password_through(renewed.path)
    assert User.objects.get(pk=lost.user.pk).check_password(STRONG)


def test_a_link_opened_before_the_renewal_sets_no_password(supervisor, lazio):
    """The earlier link's token already in a browser's session: its form refuses too."""
    lost = invite_user(
        actor=supervisor,
        username="newcomer",
        first_name="New",
        last_name="Comer",
        email="",
        role=Role.OPERATOR,
        region=lazio,
    )
    finder = Client()
    form_page = finder.get(lost.path)["Location"]
    renew_invitation(actor=supervisor, user=lost.user)
    refused = finder.post(form_page, {"new_password1": STRONG, "new_password2": STRONG})
    assert refused.status_code == 400
    assert not User.objects.get(pk=lost.user.pk).has_usable_password()


def test_a_password_reset_token_is_not_an_invitation(lazio):
    invitee = User(username="newcomer", role=Role.OPERATOR, region=lazio)
    invitee.set_unusable_password()
    invitee.save()
    uid = urlsafe_base64_encode(force_bytes(invitee.pk))
    reset_token = default_token_generator.make_token(invitee)
    assert invited_user(uidb64=uid, token=reset_token) is None
    assert Client().get(f"/accounts/invitation/{uid}/{reset_token}/").status_code == 400
    # ... nor an invitation's token a password reset's.
    assert not default_token_generator.check_token(invitee, invitation_tokens.make_token(invitee))
    assert invited_user(uidb64=uid, token=invitation_tokens.make_token(invitee)) == invitee
