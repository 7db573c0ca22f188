"""A person logs in for the first time in a real browser, enrolls an authenticator, and is locked out
after repeated wrong passwords; an invitation link's token is sent once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from authority.accounts.models import Role, User
from authority.accounts.services.invitations import invitation_path
from tests.browser.conftest import enroll, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_operator_logs_in_enrolls_and_reaches_the_home_page(page, operator):
    log_in(page, operator.username)
    expect(page).to_have_url(re.compile(r"/accounts/enroll/"))
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    backup_codes = enroll(page)
    assert len(backup_codes) == 10
    page.get_by_role("link", name="I have saved them, continue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()
    assert page.console_errors == []


def test_switching_to_italian_translates_the_page(page, operator):
    page.goto("/accounts/login/")
    page.get_by_role("button", name="IT").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accedi")


def test_repeated_wrong_passwords_lock_the_account(page, operator):
    for _ in range(5):
        log_in(page, operator.username, "not the password")
    expect(page.get_by_role("heading", level=1)).to_have_text("Account temporarily locked")
    log_in(page, operator.username)
    expect(page.get_by_role("heading", level=1)).to_have_text("Account temporarily locked")


def test_the_login_and_enrolment_pages_have_no_serious_accessibility_violations(
    page, operator, axe
):
    page.goto("/accounts/login/")
    assert axe() == []
    log_in(page, operator.username)
    assert axe() == []


def test_an_invitation_token_travels_in_one_request_only(page, lazio):
    # Whoever reads a log of paths or referrers must not find it (DESIGN.md 3.3).
    newcomer = User(username="new-operator", role=Role.OPERATOR, region=lazio)
    newcomer.set_unusable_password()
    newcomer.save()
    link = invitation_path(newcomer)
    token = link.rstrip("/").rsplit("/", 1)[1]
    carrying_the_token = []
    page.on(
        "request",
        lambda request: (
            carrying_the_token.append(request.url)
            if token in request.url or token in (request.headers.get("referer") or "")
            else None
        ),
    )

    page.goto(link)
    expect(page).to_have_url(re.compile(r"/accounts/invitation/[^/]+/set-password/$"))
    page.locator("#id_new_password1").fill("a long and quiet river at dawn")
    page.locator("#id_new_password2").fill("a long and quiet river at dawn")
    page.get_by_role("button", name="Set password").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_text("Your password is set.")).to_be_visible()
    log_in(page, "new-operator", "a long and quiet river at dawn")
    expect(page).to_have_url(re.compile(r"/accounts/enroll/"))
    assert len(carrying_the_token) == 1, carrying_the_token
    assert page.console_errors == []
