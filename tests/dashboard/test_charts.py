"""The charts show what the scripted scenario did (tests/dashboard/conftest.py::scenario)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dashboard.conftest import chart, rows_by
from tests.dashboard.conftest import export as download

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nothing_withheld(settings):
    """The scenario's counts are small: the tables the charts are drawn from are read here
    from the downloads with no count withheld (k = 1); test_exports.py tests withholding."""
    settings.STATISTICS_SUPPRESS_BELOW = 1


def export(client, slug: str, **params: str) -> dict:
    data = download(client, slug, **params)
    for row in data["rows"]:
        assert row.pop("suppressed") == []
    return data


DAY = "2026-03-10"


def one_day(**extra: str) -> dict[str, str]:
    return {"since": DAY, "until": DAY, **extra}


def traces(figure: dict) -> dict[str, dict]:
    return {trace.get("name", ""): trace for trace in figure["data"]}


def test_codes_per_day_for_the_supervisors_region(scenario, supervisor, signed_in):
    client = signed_in(supervisor)
    data = export(client, "codes", **one_day())
    assert data["region"] == "12"  # Lazio, whatever was asked
    assert data["rows"] == [
        {"day": DAY, "issued": 3, "authorized": 2, "redeemed": 1 + 1, "expired": 1, "revoked": 1}
    ]
    figure = chart(client, "codes", **one_day())
    assert figure["empty"] is False
    lines = traces(figure["figure"])
    assert lines["Issued"]["x"] == [DAY] and lines["Issued"]["y"] == [3]
    assert lines["Used for an upload"]["y"] == [2]
    assert {trace["type"] for trace in figure["figure"]["data"]} == {"scatter"}


def test_the_country_adds_up_every_region(scenario, administrator, signed_in):
    data = export(signed_in(administrator), "codes", **one_day())
    assert data["region"] is None
    assert data["rows"][0] | {"day": DAY} == {
        "day": DAY,
        "issued": 3 + 1,
        "authorized": 2,
        "redeemed": 3,
        "expired": 1,
        "revoked": 1,
    }


def test_an_administrator_may_look_at_one_region(scenario, administrator, signed_in):
    data = export(signed_in(administrator), "codes", **one_day(region="03"))  # Lombardia
    assert data["rows"][0]["issued"] == 1 and data["rows"][0]["redeemed"] == 1


def test_the_funnel_follows_codes_to_published_keys(scenario, supervisor, signed_in):
    client = signed_in(supervisor)
    data = export(client, "funnel", **one_day())
    assert {row["stage"]: row["value"] for row in data["rows"]} == {
        "codes": 5,
        "redeemed": 2,
        "uploads_with_keys": 2,
        "keys_published": scenario.keys_published,
    }
    figure = chart(client, "funnel", **one_day())["figure"]
    assert [trace["type"] for trace in figure["data"]] == ["funnel", "funnel"]
    assert figure["data"][0]["x"] == [5, 2, 2]
    assert figure["data"][1]["x"] == [scenario.keys_published]


def test_time_to_redeem_puts_immediate_uploads_in_the_first_bucket(
    scenario, administrator, signed_in
):
    data = export(signed_in(administrator), "time-to-redeem", **one_day())
    counts = {row["bucket"]: row["codes"] for row in data["rows"]}
    assert counts["<=1m"] == 3
    assert sum(counts.values()) == 3
    assert list(counts)[-1] == ">24h"


def test_uploads_and_keys_per_day(scenario, supervisor, administrator, signed_in):
    lazio = export(signed_in(supervisor), "uploads", **one_day())["rows"]
    assert lazio == [{"day": DAY, "uploads": 2, "uploads_with_keys": 2, "keys": 19}]
    country = export(signed_in(administrator), "uploads", **one_day())["rows"]
    assert country == [{"day": DAY, "uploads": 3, "uploads_with_keys": 2, "keys": 19}]


def test_keys_per_upload_distribution(scenario, administrator, signed_in):
    rows = export(signed_in(administrator), "keys-per-upload", **one_day())["rows"]
    counts = {row["keys"]: row["uploads"] for row in rows}
    assert counts[14] == 1 and counts[5] == 1 and counts[0] == 1
    assert sum(counts.values()) == 3
    assert list(counts) == list(range(31))


def test_publication_per_day(scenario, supervisor, signed_in):
    rows = export(signed_in(supervisor), "publication", **one_day())["rows"]
    assert rows == [{"day": DAY, "keys_published": scenario.keys_published, "batches": 1}]


def test_failed_checks_and_requests(scenario, administrator, signed_in):
    client = signed_in(administrator)
    failed = export(client, "failed-checks", **one_day())["rows"]
    assert failed == [{"day": DAY, "check_otp": 1, "upload": 0}]
    requests = export(client, "requests", **one_day())["rows"]
    # Real: 2 checks, 3 uploads, 1 operational info; dummy: 1 upload. The apps' settings have
    # no version yet on the scenario's day (the data migration's came into force later), so
    # there is no cover traffic to expect (test_sampling.py has it).
    assert requests == [
        {
            "day": DAY,
            "real": 6,
            "dummy": 1,
            "throttled": 0,
            "dummy_per_app_android": None,
            "dummy_per_app_ios": None,
        }
    ]


def test_app_operational_info_per_day_and_by_region(scenario, administrator, signed_in):
    client = signed_in(administrator)
    [row] = export(client, "app-info", **one_day())["rows"]
    assert {key: row[key] for key in list(row)[:6]} == {
        "day": DAY,
        "app_reports": 1,
        "exposure_notifications": 1,
        "exposure_permission_on": 1,
        "bluetooth_on": 1,
        "notification_permission_on": 0,
    }
    # No settings version yet on the scenario's day: no rate, no estimate (test_sampling.py).
    assert row["estimated_apps"] is None and row["estimate_note"] == "no-settings"
    by_region = rows_by(export(client, "app-info-regions", **one_day()), "region")
    assert by_region["Lazio"]["app_reports"] == 1
    assert by_region["Lombardia"]["app_reports"] == 0
    assert len(by_region) == 21 + 1  # every region, and people living abroad
    assert by_region["Abroad (EX)"]["region_code"] == "EX"
    bars = traces(chart(client, "app-info-regions", **one_day())["figure"])
    lazio_at = bars["Bluetooth on"]["y"].index("Lazio")
    assert bars["Bluetooth on"]["x"][lazio_at] == 100  # percent of the apps reporting


def test_regions_compared(scenario, administrator, signed_in):
    regions = rows_by(export(signed_in(administrator), "regions", **one_day()), "region")
    assert regions["Lazio"] | {"region": ""} == {
        "region_code": "12",
        "region": "",
        "codes": 5,
        "redeemed": 2,
        "uploads": 2,
        "keys": 19,
    }
    assert regions["Lombardia"]["codes"] == 1
    assert regions["Sicilia"]["codes"] == 0


def test_codes_per_operator_name_who_gave_how_many(
    scenario, supervisor, operator, other_operator, signed_in
):
    data = export(signed_in(supervisor), "operators", **one_day())
    assert sorted(
        (row["day"], row["username"], row["issued"], row["authorized"]) for row in data["rows"]
    ) == [(DAY, operator.username, 3, 0), (DAY, other_operator.username, 0, 2)]
    figure = chart(signed_in(supervisor), "operators", **one_day())["figure"]
    assert {trace["name"]: trace["y"] for trace in figure["data"]} == {
        operator.display_name: [3],
        other_operator.display_name: [2],
    }


def test_the_overview_shows_the_headline_figures(scenario, supervisor, signed_in):
    page = signed_in(supervisor).get("/statistics/", one_day())
    assert page.status_code == 200
    text = page.content.decode()
    headline = page.context["headline"]
    assert headline.codes_today == 5
    assert headline.codes_last_7_days == 5
    assert headline.redemption_rate == 40.0
    assert headline.uploads_in_period == 2
    assert headline.keys_published_in_period == scenario.keys_published
    assert headline.last_batch.index == 1
    assert headline.signing_key is not None
    assert 'data-testid="codes-today">5<' in text
    assert "40.0 %" in text


def test_a_period_without_data_shows_empty_charts(scenario, supervisor, signed_in):
    earlier = {"since": "2026-02-01", "until": "2026-02-10"}
    figure = chart(signed_in(supervisor), "codes", **earlier)
    assert figure["empty"] is True
    rows = export(signed_in(supervisor), "codes", **earlier)["rows"]
    assert len(rows) == 10 and all(row["issued"] == 0 for row in rows)


def test_a_range_includes_every_day_with_zeros(scenario, supervisor, signed_in):
    day = scenario.day
    rows = export(
        signed_in(supervisor),
        "codes",
        since=str(day - timedelta(days=6)),
        until=str(day),
    )["rows"]
    assert [row["day"] for row in rows][-1] == DAY
    assert len(rows) == 7
    assert [row["issued"] for row in rows] == [0, 0, 0, 0, 0, 0, 3]


def test_every_figure_served_is_valid_for_plotly(scenario, administrator, signed_in):
    """What dashboard.js gets is a figure plotly itself accepts (the vendored plotly.js is
    the one of the Python package): an invalid property would raise here."""
    import plotly.graph_objects as go

    from authority.dashboard.charts import CHARTS

    client = signed_in(administrator)
    for item in CHARTS:
        params = one_day(region="12") if item.slug == "operators" else one_day()
        figure = chart(client, item.slug, **params)["figure"]
        drawn = go.Figure(figure)
        assert len(drawn.data) == len(figure["data"]), item.slug
        assert drawn.layout.template.layout.font.family.startswith("Titillium Web"), item.slug
