"""Today's partial day on the charts, headline cards that agree, figures in the page, and the
vendored plotly.js files as static/vendor/SOURCES.md lists them."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from authority.keys import metrics as key_metrics
from authority.otps import metrics as code_metrics
from authority.statistics.services import local_day
from tests.dashboard.conftest import chart

pytestmark = pytest.mark.django_db

VENDOR = Path(__file__).resolve().parents[2] / "static" / "vendor"


def week(until) -> dict[str, str]:
    return {"since": str(until - timedelta(days=6)), "until": str(until)}


def test_todays_partial_count_is_a_dotted_labelled_stretch_not_a_fall(
    supervisor, lazio, count, signed_in
):
    today = local_day()
    count(code_metrics.OTP_ISSUED, 40, region=lazio, day=today - timedelta(days=1))
    count(code_metrics.OTP_ISSUED, 3, region=lazio, day=today)
    figure = chart(signed_in(supervisor), "codes", **week(today))["figure"]
    issued = [trace for trace in figure["data"] if trace["name"].startswith("Issued")]
    complete, so_far = issued
    assert complete["x"][-1] == str(today - timedelta(days=1)) and complete["y"][-1] == 40
    assert so_far["name"] == "Issued (today, so far)"
    assert so_far["x"] == [str(today - timedelta(days=1)), str(today)]
    assert so_far["y"] == [40, 3]
    assert so_far["line"]["dash"] == "dot" and so_far["showlegend"] is False
    assert so_far["legendgroup"] == complete["legendgroup"] == "Issued"
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["today, so far"]
    assert figure["layout"]["shapes"][0]["x1"] == f"{today} 12:00"


def test_todays_bars_are_lighter(supervisor, lazio, count, signed_in):
    from authority.ingestion import metrics as device_metrics

    today = local_day()
    count(device_metrics.UPLOADS, 9, region=lazio, day=today - timedelta(days=1))
    count(device_metrics.UPLOADS, 2, region=lazio, day=today)
    figure = chart(signed_in(supervisor), "uploads", **week(today))["figure"]
    uploads = figure["data"][0]
    assert uploads["type"] == "bar" and uploads["y"][-2:] == [9, 2]
    assert uploads["marker"]["opacity"] == [1, 1, 1, 1, 1, 1, 0.45]


def test_a_period_that_ends_before_today_draws_no_partial_day(supervisor, lazio, count, signed_in):
    yesterday = local_day() - timedelta(days=1)
    count(code_metrics.OTP_ISSUED, 4, region=lazio, day=yesterday)
    figure = chart(signed_in(supervisor), "codes", **week(yesterday))["figure"]
    assert not any("today" in trace["name"] for trace in figure["data"])
    assert "annotations" not in figure["layout"]


def test_keys_counted_without_a_batch_left_never_say_nothing_was_published(
    supervisor, lazio, count, signed_in
):
    """Batches leave the database after 14 days; their counters stay."""
    count(key_metrics.KEYS_PUBLISHED, 140, region=lazio, day=local_day() - timedelta(days=3))
    html = signed_in(supervisor).get("/statistics/").content.decode()
    assert 'data-testid="keys-published">140<' in html
    assert "nothing published yet" not in html
    assert "none in the index: batches leave it after 14 days" in html


def test_keys_published_before_the_period_still_count_as_published(
    supervisor, lazio, count, signed_in
):
    count(key_metrics.KEYS_PUBLISHED, 14, region=lazio, day=local_day() - timedelta(days=200))
    html = signed_in(supervisor).get("/statistics/").content.decode()
    assert 'data-testid="keys-published">0<' in html
    assert "nothing published yet" not in html


def test_the_page_carries_every_figure_it_draws(supervisor, lazio, count, signed_in):
    """One request draws the dashboard: each chart's figure is in the page, as the chart's
    endpoint serves it."""
    count(code_metrics.OTP_ISSUED, 3, region=lazio)
    client = signed_in(supervisor)
    html = client.get("/statistics/").content.decode()
    containers = re.findall(r'data-figure-id="([^"]+)"', html)
    assert len(containers) == 9
    for script_id in containers:
        found = re.search(
            rf'<script id="{script_id}" type="application/json">(.*?)</script>', html, re.S
        )
        assert found, script_id
        embedded = json.loads(found.group(1))
        assert embedded == chart(client, embedded["slug"]), script_id


def test_the_italian_page_loads_plotlys_italian_locale_and_the_english_one_does_not(
    supervisor, signed_in
):
    client = signed_in(supervisor)
    assert "plotly-locale-it.js" not in client.get("/statistics/").content.decode()
    client.cookies["django_language"] = "it"
    html = client.get("/statistics/").content.decode()
    assert html.index("plotly-finance.min.js") < html.index("plotly-locale-it.js")
    assert html.index("plotly-locale-it.js") < html.index("js/dashboard.js")


def test_the_plotly_bundle_has_every_trace_type_the_figures_use():
    """The partial bundle registers its trace modules by name; a figure with another type
    would draw nothing in the browser."""
    from authority.dashboard.charts import figures

    used = set(re.findall(r"go\.(Scatter|Bar|Funnel)\(", Path(figures.__file__).read_text()))
    assert used == {"Scatter", "Bar", "Funnel"}
    bundle = (VENDOR / "plotly" / "plotly-finance.min.js").read_text()
    assert "plotly.js (finance - minified) v4.1.1" in bundle
    for name in ("scatter", "bar", "funnel"):
        assert re.search(rf'name:"{name}"', bundle), name


def _sources() -> str:
    return (VENDOR / "SOURCES.md").read_text()
