"""The app settings pages in a real Chromium: an administrator edits a draft (a refused value
shows its message beside its field), reviews the diff and the risk preview, publishes, and the
endpoint serves the new version; a rollback restores the old one. In English and Italian,
without serious accessibility violations or errors in the console (a CSP violation is one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from authority.appconfig import serving
from tests.appconfig.conftest import ensure_initial_versions
from tests.browser.test_dashboard import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "app-settings"
)

# What the administrator reads and clicks, in each language.
WORDS = {
    "en": {
        "change": "Change the settings",
        "save": "Save draft",
        "review": "Save and review",
        "too_big": "Must be at most 150000: the device API would refuse the padding of every padded request.",
        "packet": "Size every request is padded to",
        "warns": "warns",
        "silent": "no warning",
        "confirm": "I have checked the changes and the risk preview: publish them to every phone.",
        "publish": "Publish",
        "published": "Version 2 published and in force.",
        "roll_back": "Roll back to version 1",
        "rolled_back": "Version 3 is in force: the settings of version 1 are back.",
        "h1_edit": "Edit the Android settings",
    },
    "it": {
        "change": "Modifica le impostazioni",
        "save": "Salva la bozza",
        "review": "Salva e rivedi",
        "too_big": "Deve essere al massimo 150000: l'API dei dispositivi rifiuterebbe il riempimento di ogni richiesta.",
        "packet": "Dimensione a cui viene riempita ogni richiesta",
        "warns": "avvisa",
        "silent": "nessun avviso",
        "confirm": "Ho controllato le modifiche e l'anteprima del rischio: pubblicale su tutti i telefoni.",
        "publish": "Pubblica",
        "published": "Versione 2 pubblicata e in vigore.",
        "roll_back": "Torna alla versione 1",
        "rolled_back": "È in vigore la versione 3: sono tornate le impostazioni della versione 1.",
        "h1_edit": "Modifica le impostazioni Android",
    },
}


@pytest.fixture(autouse=True)
def _fresh_settings_copy():
    serving.cache.forget()
    yield
    serving.cache.forget()


@pytest.fixture
def initial_versions(db):
    return ensure_initial_versions()


def shoot(page, name: str) -> None:
    """Screenshots of the page at a phone's width and a desktop's, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def served(page, build: int = 1) -> dict:
    response = page.request.get(f"/v1/settings?platform=android&build={build}")
    assert response.status == 200
    return json.loads(response.body())


def drawn_preview(page) -> list[dict]:
    page.wait_for_function("() => document.querySelector('#risk-chart').dataset.drawn")
    return page.evaluate(
        "() => document.querySelector('#risk-chart').data.map(t => ({name: t.name, y: t.y}))"
    )


@pytest.mark.parametrize("language", ["en", "it"])
def test_an_administrator_edits_reviews_publishes_and_rolls_back(
    page, live_server, initial_versions, administrator, axe, language
):
    words = WORDS[language]
    sign_in(page, live_server, administrator)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto("/app-settings/android/")
    assert axe() == []
    page.get_by_role("link", name=words["change"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["h1_edit"])

    # A refused value: nothing is saved, the message is beside its field.
    packet = page.get_by_label(words["packet"])
    packet.fill("200000")
    page.get_by_role("button", name=words["save"]).click()
    setting = page.locator("#setting-teks_packet_size")
    expect(setting.locator(".setting-error")).to_have_text(words["too_big"])
    expect(page.get_by_label(words["packet"])).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(words["packet"])).to_have_value("200000")  # what was typed stays
    if language == "en":
        shoot(page, "edit-refused")
    assert axe() == []

    # Corrected, with a stricter warning threshold (reachable once the closest range, which no
    # example is in, scores 8: 8 x 5 = 40); then to the review.
    page.get_by_label(words["packet"]).fill("120000")
    page.locator("#id_exposure_configuration__attenuation_bucket_scores_7").fill("8")
    page.locator("#id_exposure_info_minimum_risk_score").fill("30")
    page.get_by_role("button", name=words["review"]).click()
    changes = page.get_by_test_id("changes")
    expect(changes).to_contain_text("110000")
    expect(changes).to_contain_text("120000")
    traces = drawn_preview(page)
    assert len(traces) == 4  # two sides, each with its threshold line
    assert traces[0]["y"][0] == traces[1]["y"][0] == 25  # the close, long example
    close_long = page.locator("[data-example='close-long'] td")
    expect(close_long.nth(0)).to_contain_text(words["warns"])
    expect(close_long.nth(1)).to_contain_text(words["silent"])
    if language == "en":
        shoot(page, "review")
    assert axe() == []
    assert served(page)["teks_packet_size"] == 110_000  # nothing published yet

    # Publish at once.
    page.get_by_text(words["confirm"]).click()  # the label: Bootstrap Italia draws the box
    page.get_by_role("button", name=words["publish"], exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(words["published"])
    document = served(page)
    assert document["teks_packet_size"] == 120_000
    assert document["exposure_info_minimum_risk_score"] == 30
    if language == "en":
        shoot(page, "platform-after-publication")
    assert axe() == []

    # One click back to version 1, from its page (which shows what the rollback changes).
    page.goto("/app-settings/android/versions/1/")
    expect(page.get_by_test_id("rollback-changes")).to_contain_text("120000")
    drawn_preview(page)
    if language == "en":
        shoot(page, "version-rollback")
    assert axe() == []
    page.get_by_role("button", name=words["roll_back"]).click()
    expect(page.get_by_role("status").first).to_contain_text(words["rolled_back"])
    assert served(page)["teks_packet_size"] == 110_000
    assert page.console_errors == []


def test_a_scheduled_publication_and_the_overview(
    page, live_server, initial_versions, administrator, axe
):
    sign_in(page, live_server, administrator)
    page.goto("/app-settings/ios/draft/")
    page.locator("#id_teks_packet_size").fill("120000")
    page.get_by_role("button", name="Save and review").click()
    page.get_by_text("At a chosen time").click()
    page.get_by_label("Date", exact=True).fill("2099-01-01")  # refused: more than a year ahead
    page.get_by_label("Time", exact=True).fill("09:30")
    page.get_by_text("I have checked the changes").click()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#activates_on-error")).to_have_text("At most a year ahead.")
    assert axe() == []
    page.goto("/app-settings/")
    shoot(page, "overview")
    assert axe() == []
    assert page.console_errors == []


def test_an_override_page_and_the_edit_page_at_a_phones_width(
    page, live_server, initial_versions, administrator, axe
):
    sign_in(page, live_server, administrator)
    page.goto("/app-settings/android/draft/overrides/new/")
    page.get_by_label("From build").fill("100")
    page.locator("#id_teks_packet_size").fill("120000")
    page.get_by_role("button", name="Save the override").click()
    expect(page.get_by_test_id("overrides")).to_contain_text("Builds 100 and later")
    shoot(page, "edit-with-override")
    assert axe() == []
    page.goto("/app-settings/android/draft/overrides/0/")
    assert axe() == []
    assert page.console_errors == []
