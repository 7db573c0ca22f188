"""`manage.py require_reenrolment`: everyone (or the people named) sets up a new authenticator
at their next login, audited per person (review 12, finding 8: backups taken before the seeds
were encrypted hold them in clear)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command

from authority.accounts.models import TOTPDevice
from authority.audit.models import Action, AuditEntry
from tests.conftest import PASSWORD, enroll_authenticator

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("require_reenrolment", *args, stdout=out)
    return out.getvalue()


def test_everyone_enrols_a_new_authenticator_after_signing_in_again(
    operator, supervisor, administrator, signed_in
):
    operator_browser = signed_in(operator)
    signed_in(supervisor)
    assert operator_browser.get("/").status_code == 200

    said = run("--all", "--yes", "--by", "Maria Rossi (DPO)", "--reason", "pre-upgrade backups")

    assert "2 people will set up a new authenticator at their next login." in said
    assert not TOTPDevice.objects.exists()
    assert not Session.objects.exists()
    # The session that was signed in is no more: the login page.
    assert operator_browser.get("/").url.startswith("/accounts/login/")
    # Password, then the enrolment page: the old seed's codes open nothing.
    browser = operator_browser
    signed = browser.post("/accounts/login/", {"username": operator.username, "password": PASSWORD})
    assert signed.status_code == 302 and signed.url == "/accounts/enroll/"
    assert browser.get("/").url.startswith("/accounts/enroll/")
    assert not TOTPDevice.objects.filter(user=operator, confirmed=True).exists()

    entries = AuditEntry.objects.filter(action=Action.SECOND_FACTOR_RESET).order_by("target")
    assert [(e.target, e.actor_username) for e in entries] == [
        (operator.username, "Maria Rossi (DPO)"),
        (supervisor.username, "Maria Rossi (DPO)"),
    ]
    assert entries[0].details == {"reason": "pre-upgrade backups", "everyone": True}
    assert administrator.username not in {e.target for e in entries}  # had no authenticator


def test_the_people_named_only(operator, supervisor, signed_in):
    operator_browser = signed_in(operator)
    supervisor_browser = signed_in(supervisor)

    said = run("--username", operator.username, "--by", "admin", "--reason", "lost phone")

    assert "1 people will" in said
    assert not TOTPDevice.objects.filter(user=operator).exists()
    assert TOTPDevice.objects.filter(user=supervisor).exists()
    # The operator's session no longer passes the second factor; the supervisor's does.
    assert operator_browser.get("/").url.startswith("/accounts/enroll/")
    assert supervisor_browser.get("/").status_code == 200
    [entry] = AuditEntry.objects.filter(action=Action.SECOND_FACTOR_RESET)
    assert entry.target == operator.username and entry.details["everyone"] is False


def test_everyone_needs_a_confirmation(operator):
    enroll_authenticator(operator)
    with pytest.raises(CommandError, match="add --yes to confirm"):
        run("--all", "--by", "admin", "--reason", "backups")
    assert TOTPDevice.objects.filter(user=operator).exists()
    assert not AuditEntry.objects.filter(action=Action.SECOND_FACTOR_RESET).exists()


def test_an_unknown_username_resets_nobody(operator):
    enroll_authenticator(operator)
    with pytest.raises(CommandError, match=r"No account for: nobody\. Nothing was reset\."):
        run("--username", operator.username, "--username", "nobody", "--by", "a", "--reason", "b")
    assert TOTPDevice.objects.filter(user=operator).exists()
    assert not AuditEntry.objects.filter(action=Action.SECOND_FACTOR_RESET).exists()


def test_who_and_why_are_required(operator):
    with pytest.raises(CommandError):
        run("--all", "--yes", "--by", " ", "--reason", "backups")
    with pytest.raises(CommandError):
        run("--username", operator.username, "--reason", "backups")
