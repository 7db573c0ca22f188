"""Supervisors invite and manage the operators of their region; administrators everyone."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from authority.accounts.models import BackupCode, Role, TOTPDevice, User
from authority.accounts.services.invitations import invitation_path
from authority.accounts.services.sign_in import replace_backup_codes
from authority.audit.models import Action, AuditEntry
from tests.conftest import PASSWORD, enroll_authenticator

pytestmark = pytest.mark.django_db


def open_invitation(client: Client, link_path: str) -> str:
    """Open an invitation link as a browser does: where it leads (the page without the token)."""
    response = client.get(link_path)
    assert response.status_code == 302
    return response["Location"]


def invite(client: Client, **fields: str):
    data = {
        "username": "new-operator",
        "first_name": "Nina",
        "last_name": "Nuova",
        "email": "nina.nuova@asl.example.org",
        "language": "it",
        "role": "operator",
    }
    data.update(fields)
    return client.post(reverse("accounts:invite"), data)


def test_a_supervisor_invites_an_operator_who_sets_a_password_and_enrolls(
    supervisor, signed_in, lazio
):
    response = invite(signed_in(supervisor))
    assert response.status_code == 200
    link = re.search(
        r'value="(http://testserver/accounts/invitation/[^"]+)"', response.content.decode()
    ).group(1)
    user = User.objects.get(username="new-operator")
    assert (user.role, user.region, user.has_usable_password()) == (Role.OPERATOR, lazio, False)

    newcomer = Client()
    link_path = link.removeprefix("http://testserver")
    path = open_invitation(newcomer, link_path)
    weak = newcomer.post(path, {"new_password1": "password", "new_password2": "password"})
    assert "too common" in weak.content.decode() or "too short" in weak.content.decode()
    strong = "a long and quiet river at dawn"
    assert newcomer.post(path, {"new_password1": strong, "new_password2": strong})[
        "Location"
    ] == reverse("accounts:login")
    # The link works only once.
    assert newcomer.get(link_path).status_code == 400
    assert newcomer.get(path).status_code == 400

    response = newcomer.post(
        reverse("accounts:login"), {"username": "new-operator", "password": strong}
    )
    assert response["Location"] == reverse("accounts:enroll")
    assert AuditEntry.objects.filter(
        action=Action.USER_CREATED, target="new-operator", actor=supervisor
    ).exists()
    assert AuditEntry.objects.filter(action=Action.PASSWORD_SET, actor=user).exists()


def test_a_supervisor_cannot_create_supervisors_or_staff_of_another_region(
    supervisor, signed_in, lombardia
):
    client = signed_in(supervisor)
    page = client.get(reverse("accounts:invite")).content.decode()
    assert 'value="supervisor"' not in page
    response = invite(client, role="supervisor")
    assert "not one of the available choices" in response.content.decode()
    invite(client, username="sneaky", region=str(lombardia.pk))
    # The region field is locked to the supervisor's own region.
    assert User.objects.get(username="sneaky").region == supervisor.region


def test_an_administrator_creates_a_supervisor_for_any_region(administrator, signed_in, lombardia):
    invite(
        signed_in(administrator),
        username="boss-lombardia",
        role="supervisor",
        region=str(lombardia.pk),
    )
    user = User.objects.get(username="boss-lombardia")
    assert (user.role, user.region) == (Role.SUPERVISOR, lombardia)


def test_operators_and_supervisors_need_a_region(administrator, signed_in):
    response = invite(signed_in(administrator), role="operator", region="")
    assert "belong to a region" in response.content.decode()
    assert not User.objects.filter(username="new-operator").exists()


def test_usernames_must_be_unique(supervisor, operator, signed_in):
    response = invite(signed_in(supervisor), username=operator.username.upper())
    assert "already taken" in response.content.decode()


def test_deactivating_and_reactivating_an_operator(supervisor, operator, signed_in):
    client = signed_in(supervisor)
    client.post(reverse("accounts:deactivate", args=[operator.pk]))
    operator.refresh_from_db()
    assert not operator.is_active
    client.post(reverse("accounts:reactivate", args=[operator.pk]))
    operator.refresh_from_db()
    assert operator.is_active
    actions = list(
        AuditEntry.objects.filter(target=operator.username).values_list("action", flat=True)
    )
    assert Action.USER_DEACTIVATED in actions and Action.USER_REACTIVATED in actions


def test_resetting_the_second_factor_sends_the_operator_back_to_enrolment(
    supervisor, operator, signed_in
):
    enroll_authenticator(operator)
    replace_backup_codes(user=operator)
    response = signed_in(supervisor).post(
        reverse("accounts:reset_second_factor", args=[operator.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:person", args=[operator.pk])
    assert not TOTPDevice.objects.filter(user=operator).exists()
    assert not BackupCode.objects.filter(device__user=operator).exists()
    client = Client()
    login = client.post(
        reverse("accounts:login"),
        {"username": operator.username, "password": "correct horse battery staple"},
    )
    assert login["Location"] == reverse("accounts:enroll")
    entry = AuditEntry.objects.get(action=Action.SECOND_FACTOR_RESET)
    assert (entry.actor, entry.target, entry.region) == (
        supervisor,
        operator.username,
        operator.region,
    )


def test_a_reset_also_ends_the_verification_of_an_open_session(supervisor, operator, signed_in):
    client = signed_in(operator)
    signed_in(supervisor).post(reverse("accounts:reset_second_factor", args=[operator.pk]))
    assert client.get("/")["Location"].startswith(reverse("accounts:enroll"))


def test_unknown_actions_are_not_found(supervisor, operator, signed_in):
    assert signed_in(supervisor).post(f"/accounts/people/{operator.pk}/promote/").status_code == 404


def test_person_page_shows_second_factor_state(supervisor, operator, signed_in):
    page = (
        signed_in(supervisor).get(reverse("accounts:person", args=[operator.pk])).content.decode()
    )
    assert "Not set up" in page


def test_look_alike_usernames_are_refused(supervisor, signed_in):
    response = invite(signed_in(supervisor), username="\u0430dmin")  # a Cyrillic first letter
    assert "Enter a valid username" in response.content.decode()
    assert not User.objects.filter(username="\u0430dmin").exists()


def renew_invitation(client: Client, person: User):
    return client.post(reverse("accounts:renew_invitation", args=[person.pk]))


def invitation_link(response) -> str:
    return (
        re.search(
            r'value="(http://testserver/accounts/invitation/[^"]+)"', response.content.decode()
        )
        .group(1)
        .removeprefix("http://testserver")
    )


def test_a_supervisor_renews_the_invitation_of_someone_who_has_no_password_yet(
    supervisor, signed_in
):
    client = signed_in(supervisor)
    invite(client)
    newcomer = User.objects.get(username="new-operator")
    response = renew_invitation(client, newcomer)
    assert response.status_code == 200
    strong = "a long and quiet river at dawn"
    newcomer_browser = Client()
    newcomer_browser.post(
        open_invitation(newcomer_browser, invitation_link(response)),
        {"new_password1": strong, "new_password2": strong},
    )
    newcomer.refresh_from_db()
    assert newcomer.check_password(strong)


def test_no_invitation_is_renewed_for_someone_who_has_chosen_a_password(
    supervisor, operator, signed_in
):
    enroll_authenticator(operator)
    password_before = operator.password
    response = renew_invitation(signed_in(supervisor), operator)
    assert response.status_code == 409
    page = response.content.decode()
    assert "has already chosen a password" in page
    assert "/accounts/invitation/" not in page
    operator.refresh_from_db()
    assert operator.password == password_before
    assert TOTPDevice.objects.filter(user=operator, confirmed=True).exists()
    assert not AuditEntry.objects.filter(target=operator.username).exists()


def test_an_invitation_link_stops_working_once_its_owner_has_a_password(operator):
    # A link made while the password was already set (as renewing used to allow) is refused.
    path = invitation_path(operator)
    newcomer = Client()
    assert newcomer.get(path).status_code == 400
    taken = "a password chosen by someone else"
    response = newcomer.post(path, {"new_password1": taken, "new_password2": taken})
    assert response.status_code == 400
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)
    assert not operator.check_password(taken)


def test_pages_with_an_invitation_link_are_never_cached(supervisor, signed_in):
    client = signed_in(supervisor)
    response = invite(client)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    renewed = renew_invitation(client, User.objects.get(username="new-operator"))
    assert "/accounts/invitation/" in renewed.content.decode()
    assert "no-store" in renewed["Cache-Control"]
    assert "no-store" in Client().get(invitation_link(renewed))["Cache-Control"]
