"""Dates in a real Chromium, in Italian and English: the statistics filter's date fields show and
filter the chosen days (a browser's date field takes ISO values only), and pages write dates
day before month, in 24 hours, with the zone where a time is a deadline or an event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import sign_in
from tests.dashboard import conftest as dashboard

pytestmark = pytest.mark.django_db(transaction=True)

# The statistics tests' fixtures: the scripted scenario on its frozen day, a clean cache.
scenario = dashboard.scenario
frozen_day = dashboard.frozen_day
fresh_cache = dashboard.fresh_cache


def in_language(page, live_server, language: str) -> None:
    # The statistics page parses plotly.js before its body: slow on a loaded 2-core machine.
    page.set_default_navigation_timeout(90_000)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_statistics_filter_shows_its_dates_and_filters(
    page, live_server, scenario, administrator, language
):
    in_language(page, live_server, language)
    sign_in(page, live_server, administrator)
    page.goto("/statistics/?since=2026-03-01&until=2026-03-10", wait_until="domcontentloaded")
    since = page.locator("form.dashboard-filters input[name=since]")
    until = page.locator("form.dashboard-filters input[name=until]")
    # Before the fix, Italian pages put 01/03/2026 here and the browser showed empty fields.
    expect(since).to_have_value("2026-03-01")
    expect(until).to_have_value("2026-03-10")
    expect(page.get_by_test_id("scope")).to_contain_text("01/03/2026 – 10/03/2026")

    since.fill("2026-03-05")
    page.locator("form.dashboard-filters button[type=submit]").click()
    page.wait_for_url("**since=2026-03-05**", wait_until="domcontentloaded")
    expect(page.locator("form.dashboard-filters input[name=since]")).to_have_value("2026-03-05")
    expect(page.get_by_test_id("scope")).to_contain_text("05/03/2026 – 10/03/2026")


def test_the_italian_statistics_page_at_390_and_1280_px(page, live_server, scenario, administrator):
    in_language(page, live_server, "it")
    sign_in(page, live_server, administrator)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/statistics/?since=2026-03-01&until=2026-03-10", wait_until="domcontentloaded")
        expect(page.locator("input[name=since]")).to_have_value("2026-03-01")
        expect(page.get_by_test_id("scope")).to_contain_text("01/03/2026 – 10/03/2026")
        # The date fields fit the screen: nothing scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"dates-statistics-it-{width}.png"), full_page=True)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("it", "9 marzo 2026, 15:05 CET"), ("en", "9 March 2026, 15:05 CET")],
)
def test_a_persons_last_login_reads_day_first_in_rome_time(
    page, live_server, administrator, supervisor, language, expected
):
    supervisor.last_login = datetime(2026, 3, 9, 14, 5, tzinfo=UTC)
    supervisor.save(update_fields=["last_login"])
    in_language(page, live_server, language)
    sign_in(page, live_server, administrator)
    page.goto(reverse("accounts:person", args=[supervisor.pk]))
    expect(page.locator("dl")).to_contain_text(expected)
