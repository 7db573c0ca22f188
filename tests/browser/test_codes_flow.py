"""An operator issues a code and authorizes one in a real browser: the pages work under the
Content-Security-Policy, the countdown runs, reloading never shows the code again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from authority.statistics.services import local_day
from tests.browser.conftest import enroll, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, user) -> None:
    log_in(page, user.username)
    enroll(page)
    page.get_by_role("link", name="I have saved them, continue").click()


def test_an_operator_issues_a_code_shown_once_with_a_live_countdown(page, operator, axe):
    sign_in(page, operator)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Issue a code"
    ).click()
    assert axe() == []
    page.get_by_text("The patient has no symptoms").click()  # the styled label, as people do
    expect(page.get_by_label("The patient has no symptoms")).to_be_checked()
    page.get_by_label("Date").fill(local_day().isoformat())
    page.get_by_role("button", name="Issue the code").click()

    code = page.get_by_test_id("otp-code")
    expect(code).to_have_text(re.compile(r"^[A-Z1-9]{3}[A-Z1-9]{3}[A-Z1-9]{4}$"))
    shown = code.inner_text()
    countdown = page.locator("[data-expires-at]")
    expect(countdown).to_have_text(re.compile(r"^23:59:\d\d$"))
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    assert axe() == []
    assert page.console_errors == []

    page.reload()  # the browser sends the form again
    expect(page.get_by_role("heading", level=1)).to_have_text("Issue a code")
    expect(page.get_by_text("shown once only")).to_be_visible()
    assert shown not in page.content()


def test_an_operator_authorizes_the_code_of_an_app(page, operator, axe):
    sign_in(page, operator)
    page.goto("/codes/authorize/")
    assert axe() == []
    page.get_by_label("Code shown in the patient's app").fill("kj2 3iw y5uj")
    page.get_by_label("Date").fill(local_day().isoformat())
    page.get_by_role("button", name="Authorize the code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Codes")
    expect(page.get_by_text(re.compile(r"Code #\d+ authorized"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Waiting for the app"))).to_be_visible()
    assert axe() == []
    assert page.console_errors == []
