"""People in the Django admin: nobody changes their own standing, every change is audited."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from authority.accounts.models import Role, User
from authority.audit.models import Action, AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def change_url(user: User) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def change_form_data(user: User, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "language": user.language,
        "role": user.role,
        "region": user.region_id or "",
        "is_active": "on" if user.is_active else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_an_administrator_cannot_change_their_own_role_region_or_active_flag(
    administrator, signed_in, lazio
):
    client = signed_in(administrator)
    page = client.get(change_url(administrator)).content.decode()
    assert 'name="role"' not in page
    assert 'name="region"' not in page
    assert 'name="is_active"' not in page

    response = client.post(
        change_url(administrator),
        change_form_data(
            administrator, first_name="Ada", role=Role.OPERATOR, region=lazio.pk, is_active=""
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/user/"
    administrator.refresh_from_db()
    assert administrator.first_name == "Ada"
    assert (administrator.role, administrator.region, administrator.is_active) == (
        Role.ADMINISTRATOR,
        None,
        True,
    )


def test_an_administrator_changes_another_administrators_role(
    administrator, make_user, signed_in, lazio
):
    colleague = make_user("admin2", Role.ADMINISTRATOR, None)
    response = signed_in(administrator).post(
        change_url(colleague), change_form_data(colleague, role=Role.SUPERVISOR, region=lazio.pk)
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/user/"
    colleague.refresh_from_db()
    assert (colleague.role, colleague.region) == (Role.SUPERVISOR, lazio)
    entry = AuditEntry.objects.get(action=Action.USER_CHANGED, target=colleague.username)
    assert entry.actor == administrator
    assert entry.details == {"fields": ["region", "role"]}


def test_the_last_active_administrator_cannot_be_demoted_or_deactivated(
    administrator, make_user, operator
):
    # Through the admin pages this needs a race: the colleague sending the form was
    # deactivated (by the administrator) while the form was open.
    colleague = make_user("admin2", Role.ADMINISTRATOR, None)
    request = RequestFactory().post("/")
    request.user = colleague
    form_class = admin.site._registry[User].get_form(request, administrator, change=True)
    User.objects.filter(pk=colleague.pk).update(is_active=False)
    for changes in ({"role": Role.OPERATOR, "region": operator.region_id}, {"is_active": ""}):
        form = form_class(change_form_data(administrator, **changes), instance=administrator)
        assert not form.is_valid()
        assert "last active administrator" in str(form.errors)
    administrator.refresh_from_db()
    assert (administrator.role, administrator.is_active) == (Role.ADMINISTRATOR, True)


def test_people_are_deactivated_not_deleted_in_the_admin(administrator, operator, signed_in):
    client = signed_in(administrator)
    assert client.get(f"/admin/accounts/user/{operator.pk}/delete/").status_code == 403
    listing = client.get("/admin/accounts/user/").content.decode()
    assert "delete_selected" not in listing
    client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [operator.pk]}
    )
    assert User.objects.filter(pk=operator.pk).exists()


def test_a_password_changed_in_the_admin_is_audited(administrator, operator, signed_in):
    new_password = "a brand new and long passphrase"
    response = signed_in(administrator).post(
        f"/admin/accounts/user/{operator.pk}/password/",
        {"usable_password": "true", "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/accounts/user/{operator.pk}/change/"
    operator.refresh_from_db()
    assert operator.check_password(new_password)
    entry = AuditEntry.objects.get(action=Action.USER_CHANGED, target=operator.username)
    assert (entry.actor, entry.region) == (administrator, operator.region)
    assert entry.details == {"fields": ["password"], "password": "set"}
    assert new_password not in str(entry.details)


def test_disabling_a_password_in_the_admin_is_audited(administrator, operator, signed_in):
    response = signed_in(administrator).post(
        f"/admin/accounts/user/{operator.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/accounts/user/{operator.pk}/change/"
    operator.refresh_from_db()
    assert not operator.has_usable_password()
    entry = AuditEntry.objects.get(action=Action.USER_CHANGED, target=operator.username)
    assert entry.details == {"fields": ["password"], "password": "disabled"}


def test_a_refused_password_change_is_not_audited(administrator, operator, signed_in):
    response = signed_in(administrator).post(
        f"/admin/accounts/user/{operator.pk}/password/",
        {"usable_password": "true", "password1": "short", "password2": "short"},
    )
    assert response.status_code == 200
    operator.refresh_from_db()
    assert operator.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(target=operator.username).exists()


def test_an_administrator_changing_their_own_password_in_the_admin_is_audited(
    administrator, signed_in
):
    client = signed_in(administrator)
    new_password = "a-new-and-long-passphrase-2026"
    wrong = client.post(
        "/admin/password_change/",
        {"old_password": "not it", "new_password1": new_password, "new_password2": new_password},
    )
    assert wrong.status_code == 200
    assert not AuditEntry.objects.filter(action=Action.PASSWORD_SET).exists()

    response = client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/password_change/done/"
    administrator.refresh_from_db()
    assert administrator.check_password(new_password)
    [entry] = AuditEntry.objects.filter(action=Action.PASSWORD_SET)
    assert entry.actor == administrator
    assert new_password not in str(entry.details) and new_password not in entry.target
