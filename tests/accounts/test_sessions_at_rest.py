"""A copy of the sessions table logs nobody in and shows nothing a session carries (review 12,
finding 4: with Django's own store a SELECT gave verified administrator sessions)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoDatabaseSessions
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from authority.accounts.models import Role, User
from authority.accounts.services.invitations import invitation_path
from authority.accounts.sessions import SessionStore, row_key

pytestmark = pytest.mark.django_db


def session_table() -> list[tuple[str, str]]:
    """What whoever can read the database sees: every row of django_session."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_key, session_data FROM django_session")
        return [(str(key), str(data)) for key, data in cursor.fetchall()]


def cookie_of(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_session_key_read_from_the_database_logs_nobody_in(administrator, signed_in):
    administrator_browser = signed_in(administrator)
    assert administrator_browser.get("/accounts/people/").status_code == 200
    rows = session_table()
    assert rows
    for key, _data in rows:
        attacker = Client()
        attacker.cookies[settings.SESSION_COOKIE_NAME] = key
        people = attacker.get("/accounts/people/")
        assert people.status_code == 302
        assert people["Location"].startswith("/accounts/login/")
        admin = attacker.get("/admin/")
        assert admin.status_code == 302
        assert admin["Location"].startswith("/accounts/login/")
    # The administrator's own browser is still logged in.
    assert administrator_browser.get("/admin/").status_code == 200


def test_the_database_never_holds_a_cookie_value(operator, supervisor, signed_in):
    browsers = [signed_in(operator), signed_in(supervisor)]
    table = repr(session_table())
    for browser in browsers:
        assert cookie_of(browser) not in table


def test_an_opened_invitations_token_is_not_readable_in_the_database(lazio):
    invitee = User(username="new-operator", role=Role.OPERATOR, region=lazio)
    invitee.set_unusable_password()
    invitee.save()
    link = invitation_path(invitee)
    token = link.rstrip("/").rsplit("/", 1)[1]
    browser = Client()
    opened = browser.get(link)  # the token is now in this browser's session
    assert browser.get(opened["Location"]).status_code == 200
    [(_key, data)] = session_table()
    assert token not in data
    # Django's own decoder, with the server's secrets, gets nothing out of a row either.
    assert SessionStore().decode(data) == {}


def test_a_session_row_opens_only_with_its_own_cookie(operator, supervisor, signed_in):
    """A row copied under another session's key (database write access) does not open: the
    other session just ends."""
    operator_browser, supervisor_browser = signed_in(operator), signed_in(supervisor)
    operators_row = row_key(cookie_of(operator_browser))
    supervisors_row = row_key(cookie_of(supervisor_browser))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE django_session SET session_data ="
            " (SELECT session_data FROM django_session WHERE session_key = %s)"
            " WHERE session_key = %s",
            [supervisors_row, operators_row],
        )
    refused = operator_browser.get("/accounts/people/")
    assert refused.status_code == 302  # the row opens for no one: the operator signs in again
    assert refused["Location"] == "/accounts/login/?next=%2Faccounts%2Fpeople%2F"
    assert supervisor_browser.get("/accounts/people/").status_code == 200


def test_a_session_outlives_a_secret_key_rotation(operator, signed_in, settings):
    browser = signed_in(operator)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-only-0123456789"
    assert browser.get("/codes/").status_code == 200


def test_logging_in_starts_a_new_session_and_ends_the_old_one(operator):
    """Login cycles the key (no session fixation): the row of the key used before is gone."""
    browser = Client()
    browser.get("/accounts/login/")
    session = browser.session
    session["before-login"] = True
    session.save()
    before = cookie_of(browser)
    assert SessionStore().exists(before)
    response = browser.post(
        "/accounts/login/",
        {"username": operator.username, "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/enroll/"  # signed in: on to the second factor
    after = cookie_of(browser)
    assert after != before
    assert not SessionStore().exists(before)
    assert SessionStore().exists(after)
    assert [key for key, _data in session_table()] == [row_key(after)]


# ---------------------------------------------------------------------- the switch


def migrate_accounts_to(name: str | None) -> None:
    """Migrates accounts to `name`, or to its newest migration when None."""
    executor = MigrationExecutor(connection)
    if name is None:
        [target] = executor.loader.graph.leaf_nodes("accounts")
    else:
        target = ("accounts", name)
    executor.migrate([target])


@pytest.mark.django_db(transaction=True)
def test_the_switch_deletes_every_session_kept_the_old_way(operator):
    browser = Client()
    try:
        migrate_accounts_to("0007_seal_existing_totp_seeds")
        kept_the_old_way = DjangoDatabaseSessions()
        kept_the_old_way.update(
            {
                SESSION_KEY: str(operator.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: operator.get_session_auth_hash(),
            }
        )
        kept_the_old_way.create()
        assert [key for key, _data in session_table()] == [kept_the_old_way.session_key]
    finally:
        migrate_accounts_to(None)
    assert session_table() == []
    browser.cookies[settings.SESSION_COOKIE_NAME] = kept_the_old_way.session_key
    assert browser.get("/codes/")["Location"].startswith("/accounts/login/")
