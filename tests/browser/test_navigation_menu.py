"""The menu on a phone (390 px): folded behind a button, so that the header leaves the screen to the
page; opened by keyboard or touch, its links reachable one after another; open on a laptop
(1280 px) without a click, and open without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_dashboard import sign_in
from tests.browser.test_narrow_screens import in_language, sideways_scroll

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
# The administrator's menu, the longest, in Italian.
ADMINISTRATOR_LINKS = [
    "Home",
    "Codici",
    "Chiavi API",
    "Persone",
    "Registro di controllo",
    "Statistiche",
    "Pubblicazione",
    "Federazione",
    "Impostazioni dell'app",
    "Amministrazione",
]


def navigation(page):
    return page.get_by_role("navigation", name="Navigazione principale")


def menu_button(page):
    return page.get_by_role("button", name="Menu")


def focused(page) -> str:
    """What the keyboard is on: the element's accessible text, or its tag."""
    return page.evaluate(
        "() => (document.activeElement.innerText || document.activeElement.tagName).trim()"
    )


def tab_to(page, text: str, limit: int = 15) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page) == text:
            return
    raise AssertionError(f"{text!r} not reached by the keyboard in {limit} steps")


def focus_ring(page) -> dict[str, str]:
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return {style: s.outlineStyle, width: s.outlineWidth, color: s.outlineColor}; }"
    )


@pytest.fixture
def administrator_in_italian(page, live_server, administrator):
    sign_in(page, live_server, administrator)
    in_language(page, live_server, "it")
    return page


def test_on_a_phone_the_menu_is_folded_and_the_header_leaves_room_for_the_page(
    administrator_in_italian, axe
):
    page = administrator_in_italian
    page.set_viewport_size(PHONE)
    page.goto("/")
    header = page.locator("header").bounding_box()
    assert header is not None and header["height"] <= PHONE["height"] / 4
    expect(navigation(page)).to_be_hidden()
    button = menu_button(page)
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-controls", "app-nav")
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    assert axe() == []
    assert sideways_scroll(page) == 0


def test_on_a_phone_the_menu_opens_and_its_links_are_reached_by_keyboard(
    administrator_in_italian, live_server, axe
):
    page = administrator_in_italian
    page.set_viewport_size(PHONE)
    page.goto("/")
    tab_to(page, "Menu")
    ring = focus_ring(page)
    assert ring["style"] != "none" and ring["width"] != "0px", ring
    page.keyboard.press("Enter")
    expect(menu_button(page)).to_have_attribute("aria-expanded", "true")
    menu = navigation(page)
    expect(menu).to_be_visible()
    assert menu.get_by_role("link").all_inner_texts() == ADMINISTRATOR_LINKS
    # Each link in turn, in the menu's order, visibly focused.
    for name in ADMINISTRATOR_LINKS:
        page.keyboard.press("Tab")
        assert focused(page) == name
        link = menu.get_by_role("link", name=name, exact=True)
        expect(link).to_be_in_viewport()
        ring = focus_ring(page)
        assert (ring["style"], ring["color"]) == ("solid", "rgb(255, 255, 255)"), (name, ring)
    assert axe() == []
    assert sideways_scroll(page) == 0

    # Escape folds it from a link, and the keyboard is back on the button.
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(menu_button(page)).to_be_focused()
    expect(menu_button(page)).to_have_attribute("aria-expanded", "false")

    # Opened by a tap, a link leads to its page.
    menu_button(page).click()
    menu.get_by_role("link", name="Persone").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/people/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Persone")
    assert page.console_errors == []


def test_on_a_laptop_the_menu_is_open_without_a_click(administrator_in_italian, axe):
    page = administrator_in_italian
    page.set_viewport_size(LAPTOP)
    page.goto("/")
    expect(menu_button(page)).to_be_hidden()
    menu = navigation(page)
    expect(menu).to_be_visible()
    for name in ADMINISTRATOR_LINKS:
        expect(menu.get_by_role("link", name=name, exact=True)).to_be_in_viewport()
    # One line of links: the whole header stays under a quarter of the laptop's screen.
    header = page.locator("header").bounding_box()
    assert header is not None and header["height"] <= LAPTOP["height"] / 3
    assert axe() == []


def test_without_javascript_the_menu_is_open_on_a_phone(browser, live_server, administrator):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    try:
        page = context.new_page()
        sign_in(page, live_server, administrator)
        in_language(page, live_server, "it")
        page.goto("/")
        expect(menu_button(page)).to_be_hidden()
        menu = navigation(page)
        expect(menu).to_be_visible()
        for name in ADMINISTRATOR_LINKS:
            expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
        assert sideways_scroll(page) == 0
    finally:
        context.close()


def test_pages_without_a_menu_have_no_menu_button(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(menu_button(page)).to_have_count(0)
