"""The app settings pages in a real Chromium: an administrator edits a draft (a refused value
shows its message beside its field), reviews the diff and the risk preview, publishes, and the
endpoint serves the new version; a rollback restores the old one. In English and Italian,
without accessibility violations or CSP errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from authority.appconfig import serving
from tests.appconfig.conftest import initial_versions  # noqa: F401  (a fixture)
from tests.browser.test_dashboard import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "app-settings"


@pytest.fixture(autouse=True)
def _fresh_settings_copy():
    serving.cache.forget()
    yield
    serving.cache.forget()


def shoot(page, name: str) -> None:
    """Screenshots of the page at a phone's width and a desktop's, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_screenshots(page, live_server, initial_versions, administrator):
    sign_in(page, live_server, administrator)
    for name, path in [
        ("overview", "/app-settings/"),
        ("platform", "/app-settings/android/"),
        ("edit", "/app-settings/android/draft/"),
        ("version", "/app-settings/ios/versions/1/"),
    ]:
        page.goto(path)
        shoot(page, name)
