"""The People pages say where each person stands (invited, enrolled, locked out and until
when, deactivated), their last login and second factor, and list their own audit entries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authority.accounts.lockout import locked_until
from authority.accounts.models import Role, User
from authority.accounts.services.invitations import invite_user
from authority.audit.models import Action, AuditEntry
from tests.conftest import PASSWORD, current_code, enroll_authenticator

pytestmark = pytest.mark.django_db


def state_on_page(page: str, username: str) -> str:
    row = re.search(rf'<tr data-person="{re.escape(username)}">(.*?)</tr>', page, re.S)
    assert row, page
    return re.search(r'data-standing="([a-z_]+)"', row.group(1)).group(1)


def people_page(client: Client) -> str:
    return client.get(reverse("accounts:people")).content.decode()


def person_page(client: Client, person: User) -> str:
    return client.get(reverse("accounts:person", args=[person.pk])).content.decode()


def lock_out(user: User) -> None:
    for _ in range(5):
        Client().post(reverse("accounts:login"), {"username": user.username, "password": "x"})


def test_each_state_is_shown_in_the_list(
    supervisor, operator, other_operator, make_user, lazio, signed_in
):
    client = signed_in(supervisor)  # enrolled (signed_in enrols an authenticator)
    enroll_authenticator(operator)
    invited = invite_user(
        actor=supervisor,
        username="invited",
        first_name="I",
        last_name="N",
        email="i@asl.example.org",
        role=Role.OPERATOR,
        region=lazio,
    ).user
    lapsed = invite_user(
        actor=supervisor,
        username="lapsed",
        first_name="L",
        last_name="N",
        email="l@asl.example.org",
        role=Role.OPERATOR,
        region=lazio,
    ).user
    User.objects.filter(pk=lapsed.pk).update(invited_at=timezone.now() - timedelta(days=4))
    gone = make_user("gone", Role.OPERATOR, lazio, is_active=False)
    lock_out(other_operator)

    page = people_page(client)
    assert state_on_page(page, supervisor.username) == "enrolled"
    assert state_on_page(page, operator.username) == "enrolled"
    assert state_on_page(page, invited.username) == "invited"
    assert state_on_page(page, lapsed.username) == "invitation_expired"
    assert state_on_page(page, gone.username) == "deactivated"
    assert state_on_page(page, other_operator.username) == "locked_out"
    assert "Invited, link pending" in page and "Invited, link expired" in page


def test_a_person_with_a_password_but_no_authenticator_is_not_enrolled(
    supervisor, operator, signed_in
):
    page = people_page(signed_in(supervisor))
    assert state_on_page(page, operator.username) == "not_enrolled"


def test_a_lockout_shows_until_when_in_the_authoritys_time_zone(supervisor, operator, signed_in):
    lock_out(operator)
    until = timezone.localtime(locked_until(operator.username))
    page = person_page(signed_in(supervisor), operator)
    state = re.search(r'data-testid="person-state">(.*?)</dd>', page, re.S).group(1)
    assert "Locked out" in state
    assert until.strftime("%H:%M") in state
    assert until.tzname() in state  # CET or CEST
    assert "Europe/Rome" in page


def test_lift_lockout_is_offered_only_for_a_locked_account(supervisor, operator, signed_in):
    client = signed_in(supervisor)
    lift = reverse("accounts:lift_lockout", args=[operator.pk])
    assert lift not in person_page(client, operator)
    lock_out(operator)
    assert lift in person_page(client, operator)
    client.post(lift)
    assert locked_until(operator.username) is None
    assert lift not in person_page(client, operator)
    login = Client().post(
        reverse("accounts:login"), {"username": operator.username, "password": PASSWORD}
    )
    assert login["Location"] == reverse("accounts:enroll")


def test_the_lockout_ends_by_itself_after_the_cool_off(supervisor, operator, signed_in, settings):
    lock_out(operator)
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=5)
    with time_machine.travel(later, tick=False):
        assert locked_until(operator.username) is None
        page = people_page(signed_in(supervisor))
    assert state_on_page(page, operator.username) == "not_enrolled"


def test_last_login_and_second_factor_are_shown(supervisor, operator, signed_in):
    device = enroll_authenticator(operator)
    client = Client()
    client.post(reverse("accounts:login"), {"username": operator.username, "password": PASSWORD})
    client.post(reverse("accounts:verify"), {"token": current_code(device)})
    page = person_page(signed_in(supervisor), operator)
    operator.refresh_from_db()
    shown = timezone.localtime(operator.last_login).strftime("%H:%M")
    last_login = re.search(r"Last login</dt><dd[^>]*>(.*?)</dd>", page, re.S).group(1)
    assert shown in last_login
    assert "Never" not in last_login
    assert re.search(r"Authenticator app</dt><dd[^>]*>Set up</dd>", page)


def test_someone_who_never_logged_in_says_never(supervisor, operator, signed_in):
    page = person_page(signed_in(supervisor), operator)
    assert re.search(r"Last login</dt><dd[^>]*>Never</dd>", page)


def test_recent_events_list_the_persons_entries_as_actor_and_as_subject_newest_first(
    supervisor, operator, foreign_operator, signed_in
):
    client = signed_in(supervisor)
    Client().post(reverse("accounts:login"), {"username": operator.username, "password": "x"})
    client.post(reverse("accounts:deactivate", args=[operator.pk]))
    Client().post(
        reverse("accounts:login"), {"username": foreign_operator.username, "password": "x"}
    )
    page = person_page(client, operator)
    events = re.search(
        r'<table class="table table-sm align-middle person-events">(.*?)</table>', page, re.S
    ).group(1)
    rows = re.findall(r"<tr><td>.*?</tr>", events, re.S)
    assert len(rows) == 2
    assert "User deactivated" in rows[0] and supervisor.username in rows[0]  # as subject
    assert "Login failed" in rows[1] and operator.username in rows[1]  # as actor
    assert foreign_operator.username not in events
    link = reverse("audit:list") + f"?person={operator.username}"
    assert f'href="{link}"' in page


def test_the_audit_trail_filters_by_person_as_actor_or_subject(supervisor, operator, signed_in):
    client = signed_in(supervisor)
    Client().post(reverse("accounts:login"), {"username": operator.username, "password": "x"})
    client.post(reverse("accounts:deactivate", args=[operator.pk]))
    Client().post(reverse("accounts:login"), {"username": supervisor.username, "password": "x"})
    page = client.get(reverse("audit:list"), {"person": operator.username}).content.decode()
    body = page.split("<tbody>")[1]
    assert body.count("<tr>") == 2
    assert "User deactivated" in body and "Login failed" in body
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED).count() == 2
