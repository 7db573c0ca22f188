"""The federation page in a real Chromium: an administrator watches a run's progress live, syncs
with the test gateway (over mutual TLS) and reads the figures per country, in English and in
Italian, with no accessibility violation and nothing against the Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from authority.federation import metrics
from authority.federation.models import FederationRun
from authority.statistics.services import increment
from tests.browser.test_dashboard import sign_in
from tests.federation.conftest import (
    GatewayHandle,
    federation,
    foreign_key,
    gateway,
    gateway_process,
    pki,
)

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["federation", "gateway", "gateway_process", "pki"]  # fixtures, by name

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def axe_violations(page) -> list[dict[str, object]]:
    """Every axe-core violation, whatever its impact (the vendored axe, which the CSP allows)."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"]]}
        for v in result["violations"]
    ]


def country_row(page, country: str):
    table = page.get_by_test_id("by-country")
    return table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=country, exact=True)
    )


def screenshots(page, name: str) -> None:
    """The page at a phone's width and a laptop's, whole, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        # What plotly.js does on the window's resize event, awaited before the picture.
        page.evaluate(
            "() => Promise.all([...document.querySelectorAll('.js-plotly-plot')]"
            ".map(chart => Plotly.Plots.resize(chart)))"
        )
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        # Nothing wider than the screen but what scrolls in its own box (the tables).
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_administrator_watches_a_run_progress_live(
    page, live_server, administrator, federation: GatewayHandle
):
    run = FederationRun.objects.create(
        kind=FederationRun.Kind.DOWNLOAD,
        trigger=FederationRun.Trigger.SCHEDULE,
        status=FederationRun.Status.RUNNING,
        heartbeat_at=timezone.now(),
    )
    sign_in(page, live_server, administrator)
    page.goto("/")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Federation"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("European federation")
    card = page.get_by_test_id("last-download")
    expect(card.locator("[data-field=status_label]")).to_have_text("Running")
    expect(card.locator("[data-field=keys_received]")).to_have_text("0")

    # The worker moves on: the page follows without being reloaded.
    FederationRun.objects.filter(pk=run.pk).update(
        batches=3, keys_received=120, keys_refused=5, heartbeat_at=timezone.now()
    )
    # The page polls every 1.5 s; a loaded machine may answer slowly: up to 20 s each.
    expect(card.locator("[data-field=keys_received]")).to_have_text("120", timeout=20_000)
    expect(card.locator("[data-field=batches]")).to_have_text("3")
    expect(card.locator("[data-field=keys_refused]")).to_have_text("5")

    # It ends: the page reloads and shows the outcome and the day's figures per country.
    increment(metrics.KEYS_RECEIVED, bucket="DE", amount=80)
    increment(metrics.KEYS_RECEIVED, bucket="FR", amount=40)
    increment(metrics.KEYS_REFUSED, bucket="FR", amount=5)
    FederationRun.objects.filter(pk=run.pk).update(
        status=FederationRun.Status.SUCCEEDED, finished_at=timezone.now()
    )
    expect(card.locator("[data-field=status_label]")).to_have_text("Succeeded", timeout=20_000)
    # Country, shared with, received from, not valid, refused.
    expect(country_row(page, "DE").locator("th, td")).to_have_text(["DE", "0", "80", "0", "0"])
    expect(country_row(page, "FR").locator("th, td")).to_have_text(["FR", "0", "40", "0", "5"])
    page.wait_for_function("() => document.querySelector('#chart-exchange').dataset.drawn")
    bars = page.evaluate(
        "() => document.querySelector('#chart-exchange').data.map(t => [t.name, t.x, t.y])"
    )
    assert ["Received from", ["DE", "FR"], [80, 40]] in bars
    assert page.locator("#chart-exchange svg.main-svg").count() >= 1
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert page.console_errors == []  # a CSP violation would be reported here
    assert axe_violations(page) == []
    screenshots(page, "federation")


def test_sync_now_brings_the_keys_of_other_countries_in_italian(
    page, live_server, administrator, federation: GatewayHandle
):
    keys = [foreign_key(origin="DE", visited=("IT",)) for _ in range(6)]
    assert federation.upload_as(keys).status_code == 201
    federation.batch()
    sign_in(page, live_server, administrator)
    page.context.add_cookies([{"name": "django_language", "value": "it", "url": live_server.url}])
    page.goto("/federation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Federazione europea")
    expect(page.get_by_text("Certificato client (TLS reciproco)")).to_be_visible()

    page.get_by_role("button", name="Sincronizza ora").click()
    expect(page.get_by_text("Sincronizzazione avviata: un invio e una ricezione.")).to_be_visible()
    download = page.get_by_test_id("last-download")
    expect(download.locator("[data-field=status_label]")).to_have_text("Riuscita", timeout=30_000)
    expect(download.locator("[data-field=keys_received]")).to_have_text("6")
    expect(page.get_by_test_id("last-upload").locator("[data-field=status_label]")).to_have_text(
        "Riuscita"
    )
    expect(country_row(page, "DE").locator("th, td")).to_have_text(["DE", "0", "6", "0", "0"])
    page.wait_for_function("() => document.querySelector('#chart-exchange').dataset.drawn")
    assert page.console_errors == []
    assert axe_violations(page) == []
    screenshots(page, "federation-it")
