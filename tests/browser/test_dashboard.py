"""The statistics dashboard in a real Chromium: every chart is drawn (SVG), shows the scripted
scenario's numbers, and nothing breaks the Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django_otp import DEVICE_ID_SESSION_KEY
from playwright.sync_api import expect

from authority.accounts.sessions import SessionStore
from tests.browser.conftest import ARTIFACTS
from tests.conftest import enroll_authenticator
from tests.dashboard import conftest as dashboard

pytestmark = pytest.mark.django_db(transaction=True)

# The statistics tests' fixtures: the scripted scenario on its frozen day, a clean cache.
scenario = dashboard.scenario
frozen_day = dashboard.frozen_day
fresh_cache = dashboard.fresh_cache

DAY = "since=2026-03-10&until=2026-03-10"


def sign_in(page, live_server, user) -> None:
    """Both factors passed, as after the login pages (which have their own browser tests)."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = enroll_authenticator(user).persistent_id
    session.create()
    page.context.add_cookies(
        [{"name": "sessionid", "value": session.session_key, "url": live_server.url}]
    )


def drawn_charts(page) -> dict[str, dict]:
    """Each chart's traces as plotly.js holds them after drawing, by chart id."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart-url]')]"
        ".every(el => el.dataset.drawn || el.classList.contains('chart-empty'))"
    )
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-chart-url]')].map(el => [
            el.id.replace('chart-', ''),
            {svg: !!el.querySelector('svg.main-svg'),
             traces: (el.data || []).map(t => ({name: t.name, type: t.type, x: t.x, y: t.y}))},
        ]))"""
    )


def test_a_supervisor_sees_every_chart_of_their_region(page, live_server, scenario, supervisor):
    sign_in(page, live_server, supervisor)
    page.goto(f"/statistics/?{DAY}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistics")
    expect(page.get_by_test_id("codes-today")).to_have_text("5")
    expect(page.get_by_test_id("redemption-rate")).to_have_text("40.0 %")
    charts = drawn_charts(page)
    assert set(charts) == {
        "codes",
        "funnel",
        "time-to-redeem",
        "uploads",
        "keys-per-upload",
        "publication",
        "app-info",
        "failed-checks",
        "operators",
    }
    assert all(chart["svg"] for chart in charts.values())
    codes = {trace["name"]: trace["y"] for trace in charts["codes"]["traces"]}
    assert codes["Issued"] == [3] and codes["Authorized from the app"] == [2]
    funnel = charts["funnel"]["traces"]
    assert funnel[0]["x"] == [5, 2, 2] and funnel[1]["x"] == [scenario.keys_published]
    expect(page.locator("#chart-funnel")).to_contain_text("17")
    operators = sorted(sum(trace["y"]) for trace in charts["operators"]["traces"])
    assert operators == [2, 3]
    assert page.console_errors == []  # a CSP violation would be reported here


def test_an_administrator_sees_the_country_and_compares_regions(
    page, live_server, scenario, administrator
):
    sign_in(page, live_server, administrator)
    page.goto(f"/statistics/?{DAY}")
    charts = drawn_charts(page)
    assert {"requests", "regions", "app-info-regions"} <= set(charts)
    assert "operators" not in charts
    # The scenario exchanged nothing with the European gateway: its charts say so, undrawn.
    assert all(chart["svg"] != slug.startswith("federation-") for slug, chart in charts.items())
    requests = {trace["name"]: trace["y"] for trace in charts["requests"]["traces"]}
    assert requests["Real requests"] == [6] and requests["Dummy requests"] == [1]
    regions = charts["regions"]["traces"][0]
    assert dict(zip(regions["y"], regions["x"], strict=True))["Lazio"] == 5
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert page.console_errors == []


def test_a_fresh_install_shows_empty_charts_in_italian(page, live_server, supervisor):
    sign_in(page, live_server, supervisor)
    page.context.add_cookies([{"name": "django_language", "value": "it", "url": live_server.url}])
    page.goto("/statistics/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistiche")
    charts = drawn_charts(page)
    assert charts and not any(chart["svg"] for chart in charts.values())
    expect(page.locator(".chart-empty").first).to_be_visible()
    assert page.console_errors == []


def test_the_dashboard_has_no_serious_accessibility_violations(
    page, live_server, scenario, supervisor, axe
):
    sign_in(page, live_server, supervisor)
    page.goto(f"/statistics/?{DAY}")
    drawn_charts(page)
    assert axe() == []


MONTH_RANGE = "since=2026-02-01&until=2026-03-10"


def tick_labels(page, chart: str) -> list[str]:
    return page.locator(f"#chart-{chart} .xtick text").all_text_contents()


@pytest.mark.parametrize(
    ("language", "heading", "months", "download"),
    [
        ("en", "Statistics", r"\d{1,2} (Feb|Mar)(2026)?", "Download plot as a PNG"),
        ("it", "Statistiche", r"\d{1,2} (feb|mar)(2026)?", "Scarica il grafico come immagine PNG"),
    ],
)
def test_every_chart_is_drawn_in_the_pages_language(
    page, live_server, scenario, administrator, axe, language, heading, months, download
):
    """Dates day before month in both languages, Italian month names lowercase, plotly.js's
    own words (the modebar) from its official locale; no console error, no axe violation."""
    sign_in(page, live_server, administrator)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto(f"/statistics/?{MONTH_RANGE}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    charts = drawn_charts(page)
    assert len(charts) == 14
    assert all(chart["svg"] != slug.startswith("federation-") for slug, chart in charts.items())
    for chart in ("codes", "uploads", "publication", "app-info", "failed-checks", "requests"):
        labels = tick_labels(page, chart)
        assert labels and all(re.fullmatch(months, label) for label in labels), (chart, labels)
    assert page.locator(f'#chart-codes .modebar-btn[data-title="{download}"]').count() == 1
    # Today (the scenario's frozen day) is labelled as partial on every day axis.
    expect(page.locator("#chart-codes .annotation-text")).to_have_count(1)
    assert page.console_errors == []
    assert axe() == []


def test_the_italian_dashboard_at_phone_and_laptop_widths(
    page, live_server, scenario, supervisor, axe
):
    """Screenshots for a person to look at (test-artifacts/screenshots/); the page never
    scrolls sideways and every chart fits its card."""
    sign_in(page, live_server, supervisor)
    page.context.add_cookies([{"name": "django_language", "value": "it", "url": live_server.url}])
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/statistics/?{MONTH_RANGE}")
        drawn_charts(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        overflowing = page.evaluate(
            """() => [...document.querySelectorAll('.chart-card')].filter(card =>
                card.querySelector('svg.main-svg') &&
                card.querySelector('svg.main-svg').getBoundingClientRect().width
                    > card.getBoundingClientRect().width + 1).length"""
        )
        assert overflowing == 0, width
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-it-{width}.png"), full_page=True)
        assert axe() == []
    assert page.console_errors == []
