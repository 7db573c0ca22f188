"""Every chart's data downloads as CSV and JSON, for the scope on screen."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from authority.dashboard.charts import CHARTS
from authority.statistics.services import local_day

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_chart_downloads_as_csv(supervisor, signed_in, count, lazio):
    count("otp_issued", 3, region=lazio, operator=supervisor)
    count("otp_expired", 1, region=lazio)
    today = local_day()
    response = signed_in(supervisor).get(
        "/statistics/charts/codes/data.csv",
        {"since": str(today - timedelta(days=1)), "until": str(today)},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="codes_12_{today - timedelta(days=1)}_{today}.csv"'
    )
    assert read_csv(response) == [
        ["day", "issued", "authorized", "redeemed", "expired", "revoked"],
        [str(today - timedelta(days=1)), "0", "0", "0", "0", "0"],
        [str(today), "3", "0", "0", "1", "0"],
    ]


def test_a_chart_downloads_as_json_with_its_labels(supervisor, signed_in, count, lazio):
    count("uploads", 2, region=lazio)
    today = local_day()
    response = signed_in(supervisor).get(
        "/statistics/charts/uploads/data.json", {"since": str(today), "until": str(today)}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(f'uploads_12_{today}_{today}.json"')
    data = response.json()
    assert data["chart"] == "uploads"
    assert data["title"] == "Uploads and keys per day"
    assert (data["since"], data["until"], data["region"]) == (str(today), str(today), "12")
    assert data["columns"][0] == {"key": "day", "label": "Day"}
    assert data["rows"] == [{"day": str(today), "uploads": 2, "uploads_with_keys": 0, "keys": 0}]


def test_every_chart_on_the_page_links_to_both_downloads(administrator, signed_in, lazio):
    client = signed_in(administrator)
    for params in ({}, {"region": lazio.code}):
        page = client.get("/statistics/", params)
        text = page.content.decode()
        for item in page.context["charts"]:
            slug = item["chart"].slug
            for extension in ("csv", "json"):
                link = f"/statistics/charts/{slug}/data.{extension}?{item['query']}"
                assert link.replace("&", "&amp;") in text
                assert client.get(link).status_code == 200, link


def test_every_chart_builds_for_an_empty_database(administrator, signed_in, lazio):
    client = signed_in(administrator)
    for chart in CHARTS:
        params = {"region": lazio.code} if chart.slug == "operators" else {}
        if chart.slug in ("regions", "app-info-regions"):
            params = {}
        response = client.get(f"/statistics/charts/{chart.slug}/", params)
        assert response.status_code == 200, chart.slug
        assert response.json()["empty"] is True, chart.slug


def test_the_exports_follow_the_translation(supervisor, signed_in, count, lazio):
    count("uploads", 1, region=lazio)
    client = signed_in(supervisor)
    client.cookies["django_language"] = "it"
    data = client.get("/statistics/charts/uploads/data.json").json()
    assert data["columns"][0]["key"] == "day"  # keys never change with the language


def test_a_bad_range_falls_back_to_the_default_period(supervisor, signed_in, settings):
    settings.DASHBOARD_DEFAULT_DAYS = 30
    client = signed_in(supervisor)
    rows = client.get(
        "/statistics/charts/codes/data.json", {"since": "2026-05-10", "until": "2026-05-01"}
    ).json()["rows"]
    assert len(rows) == 30 and rows[-1]["day"] == str(local_day())
    page = client.get("/statistics/", {"since": "2026-05-10", "until": "2026-05-01"})
    assert "The end date is before the start date." in page.content.decode()


def test_the_future_is_cut_at_today(supervisor, signed_in):
    today = local_day()
    rows = (
        signed_in(supervisor)
        .get(
            "/statistics/charts/codes/data.json",
            {"since": str(today), "until": str(today + timedelta(days=10))},
        )
        .json()["rows"]
    )
    assert [row["day"] for row in rows] == [str(today)]


def test_a_range_too_long_is_refused_on_the_page(supervisor, signed_in, settings):
    settings.DASHBOARD_MAX_DAYS = 10
    page = signed_in(supervisor).get(
        "/statistics/", {"since": str(date(2026, 1, 1)), "until": str(date(2026, 1, 20))}
    )
    assert "Choose at most 10 days." in page.content.decode()
