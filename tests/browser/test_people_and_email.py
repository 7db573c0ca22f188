"""In a real browser, in Italian and in English: an invitation read from the SMTP server and
followed to an enrolled second factor; a forgotten password reset through its e-mailed link
(the second factor still asked); the People pages' states; and the way back to the page a
person was on when their session ended."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from authority.accounts.lockout import locked_until
from authority.accounts.models import Role, User
from authority.accounts.services.sign_in import replace_backup_codes
from tests.browser.conftest import ARTIFACTS, run_axe, totp_now
from tests.conftest import PASSWORD, current_code, enroll_authenticator
from tests.smtp_server import Mailbox, link_in, serving, text_of

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a long and quiet river at dawn"
LANGUAGES = {"it": "it-IT", "en": "en-GB"}


@pytest.fixture
def smtp(settings, live_server) -> Iterator[Mailbox]:
    settings.SITE_URL = live_server.url
    with serving(settings) as mailbox:
        yield mailbox


def new_page(browser, live_server, language: str, width: int = 1280):
    context = browser.new_context(
        base_url=live_server.url,
        locale=LANGUAGES[language],
        viewport={"width": width, "height": 900},
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """By the fields' ids: the labels are in the page's language."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button.btn-primary[type=submit]").click()


def enroll(page) -> list[str]:
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.locator("#id_token").fill(totp_now(secret))
    page.locator("main form button.btn-primary[type=submit]").click()
    return page.get_by_test_id("backup-codes").locator("code").all_inner_texts()


def verify(page, device) -> None:
    page.locator("#id_token").fill(current_code(device))
    page.locator("main form button.btn-primary[type=submit]").click()


@pytest.mark.parametrize("language", ["it", "en"])
def test_an_e_mailed_invitation_end_to_end(browser, live_server, smtp, supervisor, language):
    device = enroll_authenticator(supervisor)
    inviter = new_page(browser, live_server, language)
    log_in(inviter, supervisor.username)
    verify(inviter, device)
    inviter.goto("/accounts/people/invite/")
    expect(inviter.locator("html")).to_have_attribute("lang", language)
    expect(inviter.locator("#id_language")).to_have_value(language)  # the inviter's language
    inviter.locator("#id_username").fill("nina")
    inviter.locator("#id_first_name").fill("Nina")
    inviter.locator("#id_last_name").fill("Nuova")
    inviter.locator("#id_email").fill("nina.nuova@asl.example.org")
    inviter.locator("main form button.btn-primary[type=submit]").click()
    shown = inviter.get_by_test_id("invitation-link")
    expect(shown).to_have_value(re.compile(r"/accounts/invitation/"))  # shown once, as before

    message = smtp.only("nina.nuova@asl.example.org")
    assert message["Content-Language"] == language
    link = link_in(message, "/accounts/invitation/")
    assert link.startswith(live_server.url)
    assert "nina" in text_of(message)

    newcomer = new_page(browser, live_server, language)
    newcomer.goto(link)
    expect(newcomer).to_have_url(re.compile(r"/accounts/invitation/[^/]+/set-password/$"))
    newcomer.locator("#id_new_password1").fill(NEW_PASSWORD)
    newcomer.locator("#id_new_password2").fill(NEW_PASSWORD)
    newcomer.locator("main form button.btn-primary[type=submit]").click()
    expect(newcomer).to_have_url(re.compile(r"/accounts/login/$"))
    log_in(newcomer, "nina", NEW_PASSWORD)
    expect(newcomer).to_have_url(re.compile(r"/accounts/enroll/"))
    assert len(enroll(newcomer)) == 10
    nina = User.objects.get(username="nina")
    assert nina.language == language

    # The e-mailed link is used: opened again, it is refused.
    again = new_page(browser, live_server, language)
    response = again.goto(link)
    assert response is not None and response.status == 400


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_forgotten_password_reset_end_to_end(browser, live_server, smtp, operator, language):
    operator.email = "mario.rossi@asl.example.org"
    operator.save()
    device = enroll_authenticator(operator)
    page = new_page(browser, live_server, language)
    page.goto("/accounts/login/")
    page.locator('a[href="/accounts/password-reset/"]').click()
    page.locator("#id_email").fill("mario.rossi@asl.example.org")
    page.locator("main form button.btn-primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/password-reset/sent/$"))
    assert run_axe(page) == []

    message = smtp.only("mario.rossi@asl.example.org")
    assert message["Content-Language"] == language  # the language of the page it was asked on
    link = link_in(message, "/accounts/password-reset/")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/accounts/password-reset/[^/]+/set-password/$"))
    assert run_axe(page) == []
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.locator("main form button.btn-primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))

    log_in(page, operator.username, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/verify/"))  # the second factor, still
    verify(page, device)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("navigation")).to_be_visible()

    response = page.goto(link)  # used
    assert response is not None and response.status == 400


def screenshot(page, name: str) -> None:
    folder = ARTIFACTS.parent / "people"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_people_pages_show_each_state(
    browser, live_server, supervisor, operator, other_operator, lazio, make_user, language
):
    device = enroll_authenticator(supervisor)
    enroll_authenticator(operator)
    invited = User(username="invited-person", role=Role.OPERATOR, region=lazio)
    invited.set_unusable_password()
    invited.save()
    make_user("gone-person", Role.OPERATOR, lazio, is_active=False)
    other_operator.email = "locked@asl.example.org"
    other_operator.save()
    locker = new_page(browser, live_server, language)
    for _ in range(5):
        log_in(locker, other_operator.username, "not the password")
    assert locked_until(other_operator.username) is not None

    page = new_page(browser, live_server, language)
    log_in(page, supervisor.username)
    verify(page, device)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/accounts/people/")
        states = {
            username: page.locator(f'tr[data-person="{username}"] [data-standing]')
            for username in (
                operator.username,
                other_operator.username,
                "invited-person",
                "gone-person",
            )
        }
        expect(states[operator.username]).to_have_attribute("data-standing", "enrolled")
        expect(states[other_operator.username]).to_have_attribute("data-standing", "locked_out")
        expect(states["invited-person"]).to_have_attribute("data-standing", "no_password")
        expect(states["gone-person"]).to_have_attribute("data-standing", "deactivated")
        assert run_axe(page) == []
        screenshot(page, f"people-{language}-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        page.locator(f'tr[data-person="{other_operator.username}"] a').click()
        lift = page.locator('form[action$="/lift-lockout/"] button')
        expect(lift).to_be_visible()
        expect(page.locator(".person-events")).to_contain_text(other_operator.username)
        assert run_axe(page) == []
        screenshot(page, f"person-locked-{language}-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    lift.click()
    expect(page.get_by_test_id("person-state").locator("[data-standing]")).to_have_attribute(
        "data-standing", "not_enrolled"
    )
    expect(page.locator('form[action$="/lift-lockout/"]')).to_have_count(0)


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_reset_pages_at_phone_and_laptop_widths(browser, live_server, language):
    for width in (390, 1280):
        page = new_page(browser, live_server, language, width)
        page.goto("/accounts/password-reset/")
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert run_axe(page) == []
        screenshot(page, f"reset-form-{language}-{width}")
        page.goto("/accounts/password-reset/MQ/not-a-token/")
        screenshot(page, f"reset-refused-{language}-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_after_the_session_ends_in_another_tab_the_login_returns_to_the_page(
    browser, live_server, operator, settings
):
    device = enroll_authenticator(operator)
    backup_codes = replace_backup_codes(user=operator)
    page = new_page(browser, live_server, "en")
    page.clock.install()
    log_in(page, operator.username)
    verify(page, device)
    page.goto("/codes/?state=pending")
    Session.objects.all().delete()  # the session ended on the server
    page.clock.fast_forward(settings.SESSION_COOKIE_AGE * 1000 + 2000)
    expect(page).to_have_url(
        re.compile(r"/accounts/login/\?expired=1&next=%2Fcodes%2F%3Fstate%3Dpending$")
    )
    expect(page.locator(".alert-info")).to_be_visible()
    log_in_here(page, operator.username)
    # A backup code: the app's code of this 30-second step was used by the first login.
    page.locator("#id_token").fill(backup_codes[0])
    page.locator("main form button.btn-primary[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/codes/\?state=pending$"))


def log_in_here(page, username: str) -> None:
    """The login form of the page the browser is on (it carries `next`)."""
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button.btn-primary[type=submit]").click()
