"""Every page of the permission matrices, as each role, in English and Italian, on a phone (390 px)
and a tablet (768 px): none scrolls sideways. The pages this work drew (home pages, error pages,
the codes list, the issued code) have no serious accessibility violation at either width."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from authority.accounts.models import Role
from authority.keys.models import PublicationRun
from authority.keys.services import publication
from authority.keys.services.storing import store_uploaded_keys
from authority.otps import services
from authority.statistics.services import local_day
from tests.accounts.test_permissions import MATRIX as PEOPLE_MATRIX
from tests.browser.test_dashboard import sign_in
from tests.dashboard.test_access import PAGES as STATISTICS_PAGES
from tests.keys.conftest import uploaded_key, with_a_signing_key
from tests.keys.test_pages import ACTORS as PUBLISHING_ACTORS
from tests.keys.test_pages import PAGES as PUBLISHING_MATRIX
from tests.matrix import ACTORS
from tests.otps.test_permissions import MATRIX as CODES_MATRIX

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ["operator", "supervisor", "administrator"]
LANGUAGES = ["en", "it"]
WIDTHS = [390, 768]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pages_of(role: str) -> list[str]:
    """The paths the matrices let `role` open (200 to a GET), in the matrices' own order: a page
    added to a matrix is visited here too."""
    paths = [
        path
        for rows, actors in (
            (PEOPLE_MATRIX, ACTORS),
            (CODES_MATRIX, ACTORS),
            (PUBLISHING_MATRIX, PUBLISHING_ACTORS),
        )
        for method, path, outcomes in rows
        if method == "get" and outcomes[actors.index(role)] == 200
    ]
    if role != "operator":
        paths += STATISTICS_PAGES
    return list(dict.fromkeys(paths))


@pytest.fixture
def busy_site(request, tmp_path, settings, make_user, lazio, operator, supervisor, administrator):
    """Something on every page: codes in every state, an API key, people in every state, a
    published batch; the matrices' placeholders filled with it."""
    settings.KEYS_MIN_PER_FILE = 10
    settings.STORAGES = {
        **settings.STORAGES,
        "batches": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "batches"), "allow_overwrite": True},
        },
    }
    colleague = make_user("colleague-lazio", Role.OPERATOR, lazio)
    invitee = make_user("invitee-lazio", Role.OPERATOR, lazio)
    invitee.set_unusable_password()
    invitee.save()
    peer = make_user("peer-supervisor-lazio", Role.SUPERVISOR, lazio)
    own = services.issue_otp(operator=operator, onset_date=local_day()).otp
    services.issue_otp(operator=operator, onset_date=local_day() - timedelta(days=3))
    revoked = services.issue_otp(operator=operator, onset_date=local_day()).otp
    services.revoke_otp(actor=operator, otp=revoked)
    services.authorize_otp(operator=operator, code="KJ23IWY5UJ", onset_date=local_day())
    theirs = services.issue_otp(operator=colleague, onset_date=local_day()).otp
    key = services.create_api_key(
        actor=supervisor, region=lazio, name="Health information system of the region"
    ).api_key
    store_uploaded_keys(
        keys=[uploaded_key(3) for _ in range(4)],
        region_id=lazio.pk,
        onset_date=None,
        uploaded_on=local_day(),
    )
    with_a_signing_key()
    run = publication.request_publication(
        requested_by=administrator, trigger=PublicationRun.Trigger.COMMAND
    )
    run = publication.run_publication(run_id=run.pk)
    return {
        "subject": operator.pk,
        "peer": peer.pk,
        "invitee": invitee.pk,
        "own": own.pk,
        "colleague": theirs.pk,
        "key": key.pk,
        "run": run.pk,
        "batch": run.batches.get().pk,
    }


def in_language(page, live_server, language: str) -> None:
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )


def sideways_scroll(page) -> int:
    """How many pixels the page can scroll sideways (0: none)."""
    return page.evaluate(
        "() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_no_page_scrolls_sideways_on_a_phone_or_a_tablet(
    request, page, live_server, busy_site, role, language
):
    sign_in(page, live_server, request.getfixturevalue(role))
    in_language(page, live_server, language)
    # Every page at three widths, charts included, on a CI machine running two workers: a
    # page that settles late is slow, not too wide (CI timed one out at the default 15 s).
    page.set_default_timeout(60_000)
    too_wide = []
    for path in pages_of(role):
        url = path.format(**busy_site)
        answer = page.request.get(url)  # the browser's cookies, without opening a page
        assert answer.status == 200, path
        if not answer.headers["content-type"].startswith("text/html"):
            continue  # downloads and progress polls: no page to lay out
        for width in WIDTHS:
            # Opened at each width, as on the device: charts are drawn for the width they find.
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            page.wait_for_load_state("networkidle")
            if excess := sideways_scroll(page):
                too_wide.append(f"{path} at {width} px: {excess} px too wide")
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                name = f"too-wide-{role}-{language}-{width}{path.replace('/', '_')}.png"
                page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    assert too_wide == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_login_page_fits_a_phone(page, live_server, db, language):
    in_language(page, live_server, language)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/accounts/login/")
        assert sideways_scroll(page) == 0


def check_at_every_width(page, axe, name: str) -> None:
    """No sideways scroll and no serious accessibility violation at 390, 768 and 1280 px; a
    screenshot of each, to look at (test-artifacts/screenshots/)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (*WIDTHS, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert sideways_scroll(page) == 0, f"{name} at {width} px"
        assert axe() == [], f"{name} at {width} px"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_home_pages_fit_and_are_accessible(
    request, page, live_server, busy_site, axe, role, language
):
    sign_in(page, live_server, request.getfixturevalue(role))
    in_language(page, live_server, language)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        {"en": "Hello", "it": "Salve"}[language]
    )
    check_at_every_width(page, axe, f"home-{role}-{language}")
    assert page.console_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_every_code_can_be_revoked_without_scrolling_sideways(
    page, live_server, busy_site, operator, language
):
    sign_in(page, live_server, operator)
    in_language(page, live_server, language)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/codes/")
    revoke = page.get_by_role("button", name={"en": "Revoke", "it": "Revoca"}[language])
    assert revoke.count() == 3  # the three codes still waiting
    for index in range(revoke.count()):
        box = revoke.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_an_api_key_can_be_revoked_without_scrolling_sideways(
    page, live_server, busy_site, supervisor, axe, language
):
    sign_in(page, live_server, supervisor)
    in_language(page, live_server, language)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/codes/api-keys/")
    revoke = page.get_by_role(
        "button",
        name={"en": "Revoke", "it": "Revoca"}[language]
        + " Health information system of the region",
    )
    box = revoke.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert sideways_scroll(page) == 0
    assert axe() == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_codes_list_fits_and_is_accessible(
    page, live_server, busy_site, supervisor, axe, language
):
    sign_in(page, live_server, supervisor)
    in_language(page, live_server, language)
    page.goto("/codes/")
    check_at_every_width(page, axe, f"codes-supervisor-{language}")


def test_the_issued_code_card_has_all_four_borders(page, live_server, operator):
    sign_in(page, live_server, operator)
    page.goto("/codes/issue/")
    page.get_by_label("Date").fill(local_day().isoformat())
    page.get_by_role("button", name="Issue the code").click()
    for width in (*WIDTHS, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        borders = page.locator(".otp-card").evaluate(
            "card => ['Top', 'Right', 'Bottom', 'Left'].map(side =>"
            " getComputedStyle(card)['border' + side + 'Width'])"
        )
        assert borders == ["2px", "2px", "2px", "2px"], width
        assert sideways_scroll(page) == 0


HEADINGS = {
    404: {"en": "Page not found", "it": "Pagina non trovata"},
    403: {"en": "You cannot open this page", "it": "Non puoi aprire questa pagina"},
    500: {"en": "Something went wrong on our side", "it": "Si è verificato un errore nel sistema"},
    "csrf": {"en": "The form could not be sent", "it": "Il modulo non è stato inviato"},
}


@pytest.mark.urls("tests.pages.urls_with_errors")
@pytest.mark.parametrize("language", LANGUAGES)
def test_error_pages_explain_themselves_in_the_layout(page, live_server, operator, axe, language):
    in_language(page, live_server, language)
    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[404][language])
    check_at_every_width(page, axe, f"error-404-{language}")

    page.goto("/crash/")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[500][language])
    check_at_every_width(page, axe, f"error-500-{language}")

    # A login form left open while the site's cookie was replaced (another tab, a new session).
    page.goto("/accounts/login/")
    page.context.add_cookies(
        [{"name": settings.CSRF_COOKIE_NAME, "value": "a" * 32, "url": live_server.url}]
    )
    page.get_by_label({"en": "Username", "it": "Nome utente"}[language]).fill(operator.username)
    page.get_by_label("Password").fill("anything")
    page.get_by_role("button", name={"en": "Continue", "it": "Continua"}[language]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS["csrf"][language])
    expect(page.get_by_test_id("error-page")).to_contain_text(
        {"en": "this page was out of date", "it": "non era più aggiornata"}[language]
    )
    check_at_every_width(page, axe, f"error-csrf-{language}")

    sign_in(page, live_server, operator)
    page.goto("/accounts/people/")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADINGS[403][language])
    check_at_every_width(page, axe, f"error-403-{language}")
    # The browser reports each error status it received; nothing else may go wrong.
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
