"""The overview page: right on a fresh install and with two years of history, in both
languages, and within the Content-Security-Policy (no inline script or style)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.management import call_command

from authority.accounts.models import Region, Role, User
from authority.dashboard.demo import DemoRegion, history
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day
from tests.dashboard.conftest import chart

pytestmark = pytest.mark.django_db


def assert_no_inline_code(html: str) -> None:
    assert " style=" not in html
    assert re.search(r"<style[\s>]", html) is None
    for tag in re.findall(r"<script[^>]*>", html):
        # Code comes from files; the figures are data a browser never runs (json_script).
        assert 'src="' in tag or 'type="application/json"' in tag, tag
    assert re.search(r"\son[a-z]+=", html) is None  # no onclick= and friends


def test_a_fresh_install_shows_zeros_and_empty_charts(administrator, signed_in):
    client = signed_in(administrator)
    page = client.get("/statistics/")
    assert page.status_code == 200
    html = page.content.decode()
    assert_no_inline_code(html)
    assert 'data-testid="codes-today">0<' in html
    assert "nothing published yet" in html
    assert "no active key" in html
    assert 'data-testid="redemption-rate">—<' in html
    for item in page.context["charts"]:
        assert chart(client, item["chart"].slug)["empty"] is True


def test_plotly_styles_come_from_a_stylesheet_loaded_before_plotly(supervisor, signed_in):
    html = signed_in(supervisor).get("/statistics/").content.decode()
    link = html.index('id="plotly.js-style-global" class="no-inline-styles"')
    script = html.index("vendor/plotly/plotly-finance.min.js")
    assert link < script
    assert html.index("9f215cf04c5486422605d13261cb87401f4e7763b6296af81e98efbc0130da53") < script
    assert html.index("js/dashboard.js") > script


def test_the_page_is_in_italian_for_italian_readers(supervisor, signed_in):
    client = signed_in(supervisor)
    client.cookies["django_language"] = "it"
    page = client.get("/statistics/")
    html = page.content.decode()
    assert '<html lang="it">' in html
    assert "Statistiche" in html
    assert_no_inline_code(html)
    figure = chart(client, "codes")["figure"]
    assert figure["layout"]["separators"] == ",."


def test_charts_carry_their_urls_and_texts_as_data_attributes(supervisor, signed_in):
    html = signed_in(supervisor).get("/statistics/").content.decode()
    urls = re.findall(r'data-chart-url="([^"]+)"', html)
    assert len(urls) == 9
    assert all(url.startswith("/statistics/charts/") and "since=" in url for url in urls)
    assert html.count('data-empty-text="No data for this period."') == 9


@pytest.fixture
def two_years(lazio, lombardia, operator, supervisor) -> None:
    """Two years of history for two regions (all 21 are in the benchmark: slower)."""
    until = local_day()
    since = until.replace(year=until.year - 2)
    regions = [
        DemoRegion(pk=lazio.pk, code=lazio.code, operator_ids=[operator.pk, supervisor.pk]),
        DemoRegion(pk=lombardia.pk, code=lombardia.code),
    ]
    DailyCounter.objects.bulk_create(history(regions, since=since, until=until), batch_size=2000)


def test_two_years_of_history_show_in_every_chart(two_years, administrator, signed_in, lazio):
    # Both languages on one seeding (two years of counters are the slow part), each drawn
    # afresh as in a test of its own: nothing from the other language's cached charts.
    for language in ("en", "it"):
        cache.clear()
        two_years_in_every_chart(signed_in(administrator), language, lazio)


def two_years_in_every_chart(client, language, lazio) -> None:
    client.cookies["django_language"] = language
    today = local_day()
    full = {"since": str(today.replace(year=today.year - 2)), "until": str(today)}
    page = client.get("/statistics/", full)
    assert page.status_code == 200
    assert page.context["headline"].codes_in_period > 1000
    for item in page.context["charts"]:
        figure = chart(client, item["chart"].slug, **full)
        assert figure["empty"] is False, item["chart"].slug
    operators = chart(client, "operators", region=lazio.code, **full)["figure"]
    assert len(operators["data"]) == 3  # two people and the health information system
    codes = chart(client, "codes", **full)["figure"]
    assert len(codes["data"][0]["x"]) == len(codes["data"][0]["y"]) > 700


def test_seeding_the_demo_history_fills_every_region_up_to_yesterday(db, operator):
    call_command("seed_demo_history", days=3)
    days = set(DailyCounter.objects.values_list("day", flat=True))
    assert max(days) == local_day().fromordinal(local_day().toordinal() - 1)
    assert len(days) == 3
    regions = set(DailyCounter.objects.exclude(region_id=0).values_list("region_id", flat=True))
    assert regions == set(Region.objects.values_list("pk", flat=True))
    assert DailyCounter.objects.filter(metric="otp_issued", operator_id=operator.pk).exists()
    assert DailyCounter.objects.filter(metric="batches_published").count() == 3


def test_seeding_twice_adds_nothing_unless_asked_to_replace(db):
    call_command("seed_demo_history", days=2)
    rows = DailyCounter.objects.count()
    total = sum(DailyCounter.objects.values_list("value", flat=True))
    call_command("seed_demo_history", days=2)
    assert DailyCounter.objects.count() == rows
    call_command("seed_demo_history", days=2, replace=True)
    assert sum(DailyCounter.objects.values_list("value", flat=True)) == total  # same seed


def test_the_demo_history_is_never_seeded_in_production(db, settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo_history", days=2)
    assert not DailyCounter.objects.exists()


def test_the_first_demo_run_seeds_accounts_and_history(db, settings):
    settings.DEMO_HISTORY_DAYS = 5
    call_command("seed_demo")
    assert User.objects.filter(role=Role.SUPERVISOR).exists()
    assert DailyCounter.objects.filter(metric="otp_redeemed").exists()
    from authority.keys.models import ExposureKey
    from authority.keys.selectors import active_signing_keys

    assert len(active_signing_keys()) == 1
    assert ExposureKey.objects.filter(batch=None).count() > 0  # something for "Publish now"
    call_command("seed_demo")  # a second run changes nothing
    assert User.objects.count() == 4
