"""The permission matrix: every page and action x every role x own region / other region / anonymous."""

from __future__ import annotations

import pytest
from django.test import Client

from authority.accounts import permissions
from authority.accounts.models import Role
from tests.matrix import LOGIN, Row, assert_outcome, client_as, matrix

pytestmark = pytest.mark.django_db


# (method, path template, expected outcome per actor, in ACTORS order)
MATRIX: list[Row] = [
    ("get", "/", [LOGIN, 200, 200, 200, 200, 200]),
    ("get", "/accounts/backup-codes/", [LOGIN, 200, 200, 200, 200, 200]),
    ("get", "/accounts/people/", [LOGIN, 403, 403, 200, 200, 200]),
    ("get", "/accounts/people/invite/", [LOGIN, 403, 403, 200, 200, 200]),
    ("get", "/accounts/people/{subject}/", [LOGIN, 403, 403, 200, 404, 200]),
    ("post", "/accounts/people/{subject}/deactivate/", [LOGIN, 403, 403, 302, 404, 302]),
    ("post", "/accounts/people/{subject}/reactivate/", [LOGIN, 403, 403, 302, 404, 302]),
    ("post", "/accounts/people/{subject}/reset-second-factor/", [LOGIN, 403, 403, 302, 404, 302]),
    ("post", "/accounts/people/{subject}/lift-lockout/", [LOGIN, 403, 403, 302, 404, 302]),
    ("post", "/accounts/people/{invitee}/renew-invitation/", [LOGIN, 403, 403, 200, 404, 200]),
    # Someone who chose a password gets no new invitation: its link would replace the password.
    ("post", "/accounts/people/{subject}/renew-invitation/", [LOGIN, 403, 403, 409, 404, 409]),
    # A supervisor manages operators, not fellow supervisors.
    ("get", "/accounts/people/{peer}/", [LOGIN, 403, 403, 200, 404, 200]),
    ("post", "/accounts/people/{peer}/deactivate/", [LOGIN, 403, 403, 404, 404, 302]),
    ("post", "/accounts/people/{peer}/reset-second-factor/", [LOGIN, 403, 403, 404, 404, 302]),
    ("get", "/audit/", [LOGIN, 403, 403, 200, 200, 200]),
    ("get", "/admin/", [LOGIN, 403, 403, 403, 403, 200]),
    ("get", "/admin/accounts/user/", [LOGIN, 403, 403, 403, 403, 200]),
    ("get", "/admin/audit/auditentry/", [LOGIN, 403, 403, 403, 403, 200]),
]


@pytest.fixture
def cast(staff, make_user, lazio):
    return {
        **staff,
        "subject": make_user("subject-lazio", Role.OPERATOR, lazio),
        "peer": make_user("peer-supervisor-lazio", Role.SUPERVISOR, lazio),
        "invitee": _invited(make_user("invitee-lazio", Role.OPERATOR, lazio)),
    }


def _invited(user):
    user.set_unusable_password()
    user.save()
    return user


@matrix(MATRIX)
def test_permission_matrix(cast, signed_in, method, path, outcome, actor):
    url = path.format(subject=cast["subject"].pk, peer=cast["peer"].pk, invitee=cast["invitee"].pk)
    response = getattr(client_as(actor, cast.get(actor), signed_in), method)(url)
    assert_outcome(response, outcome)


def test_users_with_only_a_password_cannot_reach_any_page(operator, administrator):
    for user in (operator, administrator):
        client = Client()
        client.force_login(user)
        for path in ("/", "/accounts/people/", "/audit/", "/admin/"):
            response = client.get(path)
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/enroll/")


def test_region_visibility_helpers(
    operator, supervisor, foreign_supervisor, administrator, lazio, lombardia
):
    assert permissions.can_view_region(supervisor, lazio)
    assert not permissions.can_view_region(supervisor, lombardia)
    assert not permissions.can_view_region(supervisor, None)
    assert not permissions.can_view_region(operator, lazio)
    assert permissions.can_view_region(foreign_supervisor, lombardia)
    assert permissions.can_view_region(administrator, lazio)
    assert permissions.can_view_region(administrator, None)


def test_people_lists_only_show_the_own_region(
    supervisor, operator, foreign_operator, administrator, signed_in
):
    page = signed_in(supervisor).get("/accounts/people/").content.decode()
    assert operator.username in page
    assert foreign_operator.username not in page
    national = signed_in(administrator).get("/accounts/people/").content.decode()
    assert operator.username in national and foreign_operator.username in national


def test_audit_lists_only_show_the_own_region(
    supervisor, foreign_supervisor, operator, foreign_operator, signed_in
):
    from authority.audit.models import Action
    from authority.audit.services import record_event

    record_event(action=Action.USER_CHANGED, actor=supervisor, target=operator.username)
    record_event(
        action=Action.USER_CHANGED, actor=foreign_supervisor, target=foreign_operator.username
    )
    page = signed_in(supervisor).get("/audit/").content.decode()
    assert operator.username in page
    assert foreign_operator.username not in page


def test_deactivated_users_lose_access_at_once(operator, supervisor, signed_in):
    client = signed_in(operator)
    signed_in(supervisor).post(f"/accounts/people/{operator.pk}/deactivate/")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2F"
