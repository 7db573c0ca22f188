"""The estimates from the sampled operational info, the cover traffic from the settings and the
federation charts in a real Chromium, in Italian, at a phone's and a laptop's width: drawn
(SVG), the estimate's line and its change mark there, no console error (a CSP violation would
be one), nothing wider than the screen.

With DASHBOARD_SHOTS_DIR set, each of these charts is saved there as a picture at both widths,
for a person to look at."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from authority.appconfig.defaults import immuni_defaults
from authority.appconfig.models import SettingsVersion
from authority.dashboard.demo import DemoRegion, history
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day
from tests.browser.test_dashboard import drawn_charts, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_CHARTS = ("app-info", "requests", "federation-uploaded", "federation-received",
              "federation-refused")  # fmt: skip
DAYS = 60
CHANGED_DAYS_AGO = 20


@pytest.fixture
def history_with_a_rate_change(lazio, lombardia) -> str:
    """Sixty days of demo counters for two regions (the gateway's included), Immuni's settings
    in force before them, and Android's rate without an exposure down to 50 % 20 days ago."""
    until = local_day() - timedelta(days=1)
    since = until - timedelta(days=DAYS - 1)
    regions = [DemoRegion(pk=lazio.pk, code=lazio.code), DemoRegion(pk=lombardia.pk, code="03")]
    DailyCounter.objects.bulk_create(history(regions, since=since, until=until), batch_size=2000)
    long_ago = timezone.now() - timedelta(days=400)
    changed = timezone.now() - timedelta(days=CHANGED_DAYS_AGO)
    SettingsVersion.objects.all().delete()  # a transactional test: whatever is left
    for platform in ("android", "ios"):
        SettingsVersion.objects.create(
            platform=platform,
            number=1,
            document=immuni_defaults(platform),
            published_at=long_ago,
            activates_at=long_ago,
        )
    document = immuni_defaults("android")
    document["operational_info_without_exposure_sampling_rate"] = 0.5
    SettingsVersion.objects.create(
        platform="android", number=2, document=document, published_at=changed, activates_at=changed
    )
    return f"since={since}&until={until}"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_new_charts_draw_in_italian_without_errors(
    page, live_server, history_with_a_rate_change, administrator, width
):
    sign_in(page, live_server, administrator)
    page.context.add_cookies([{"name": "django_language", "value": "it", "url": live_server.url}])
    page.set_viewport_size({"width": width, "height": 900})
    # Fourteen charts on a 2-core machine that other test runs share: time to draw them.
    page.set_default_timeout(90_000)
    page.goto(f"/statistics/?{history_with_a_rate_change}", wait_until="domcontentloaded")
    charts = drawn_charts(page)
    for slug in NEW_CHARTS:
        assert charts[slug]["svg"], slug
    names = {trace["name"] for trace in charts["app-info"]["traces"]}
    assert {"App stimate (conteggio ÷ campionamento)", "Stima approssimata quel giorno"} <= names
    estimate = next(
        trace
        for trace in charts["app-info"]["traces"]
        if trace["name"] == "App stimate (conteggio ÷ campionamento)"
    )
    assert len(estimate["y"]) == DAYS and all(value for value in estimate["y"])
    # The change is marked where it happened, labelled in Italian.
    assert (
        page.locator(
            "#chart-app-info .annotation-text", has_text="campionamento modificato"
        ).count()
        == 1
    )
    requests = {trace["name"] for trace in charts["requests"]["traces"]}
    assert "Richieste fittizie per app al giorno, dalle impostazioni" in requests  # same on both
    received = [trace["name"] for trace in charts["federation-received"]["traces"]]
    assert received[0] == "DE" and "Altri paesi" in received
    # Nothing scrolls sideways; every new chart fits its card.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for slug in NEW_CHARTS:
        card = page.locator(f"#chart-{slug}").locator(
            "xpath=ancestor::div[contains(@class, 'chart-card')]"
        )
        svg_width = page.locator(f"#chart-{slug} svg.main-svg").first.bounding_box()["width"]
        assert svg_width <= card.bounding_box()["width"] + 1, slug
        if shots := os.environ.get("DASHBOARD_SHOTS_DIR"):
            Path(shots).mkdir(parents=True, exist_ok=True)
            card.screenshot(path=str(Path(shots) / f"{slug}-it-{width}.png"))
    if shots := os.environ.get("DASHBOARD_SHOTS_DIR"):
        page.screenshot(path=str(Path(shots) / f"dashboard-it-{width}.png"), full_page=True)
    assert page.console_errors == []
