"""The public open data: national and regional daily figures, small counts withheld."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client

from authority.accounts.models import Region
from authority.statistics.services import local_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def yesterday():
    return local_day() - timedelta(days=1)


def open_data(**params: str) -> dict:
    response = Client().get("/open-data/daily.json", params)
    assert response.status_code == 200, response.content
    return response.json()


def cells(data: dict, day) -> dict[str, dict]:
    return {row["area"]: row for row in data["rows"] if row["day"] == str(day)}


def test_anyone_may_download_it_and_caches_may_keep_it(db):
    response = Client().get("/open-data/daily.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"] and "max-age=3600" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Last-Modified" in response


def test_it_holds_every_region_and_the_country_for_each_day(yesterday, db):
    data = open_data(since=str(yesterday - timedelta(days=1)), until=str(yesterday))
    assert data["suppression_threshold"] == 5
    assert data["columns"] == [
        "codes_issued",
        "codes_used",
        "uploads",
        "keys_published",
        "exposure_notifications",
        "apps_reporting",
    ]
    assert len(data["rows"]) == 2 * (1 + Region.objects.count())
    assert cells(data, yesterday)["IT"]["area_name"] == "Italia"
    assert cells(data, yesterday)["12"]["area_name"] == "Lazio"


def test_large_counts_are_published_and_small_ones_withheld(yesterday, count, lazio, lombardia):
    count("otp_issued", 7, region=lazio, day=yesterday)
    count("otp_authorized", 2, region=lazio, day=yesterday)  # codes_issued = 9
    count("otp_issued", 3, region=lombardia, day=yesterday)
    count("otp_issued", 6, region=Region.objects.get(name="Sicilia"), day=yesterday)
    count("uploads", 40, region=lazio, day=yesterday)
    count("uploads", 12, region=lombardia, day=yesterday)
    day = cells(open_data(since=str(yesterday), until=str(yesterday)), yesterday)
    assert day["12"]["codes_issued"] == 9
    assert day["03"]["codes_issued"] is None
    assert "codes_issued" in day["03"]["suppressed"]
    assert day["19"]["codes_issued"] is None  # the complement of Lombardia's (see below)
    assert day["IT"]["codes_issued"] == 18
    assert day["IT"]["uploads"] == 52
    assert day["12"]["uploads"] == 40 and day["03"]["uploads"] == 12
    assert day["IT"]["suppressed"] == []


def test_zero_is_published_it_singles_nobody_out(yesterday, db):
    day = cells(open_data(since=str(yesterday), until=str(yesterday)), yesterday)
    assert day["IT"]["uploads"] == 0
    assert day["20"]["codes_used"] == 0
    assert all(row["suppressed"] == [] for row in day.values())


def test_a_lone_small_region_takes_a_second_one_with_it(yesterday, count, lazio, lombardia):
    # Without a second withheld figure, country minus the others would give Lombardia's 3 away.
    count("uploads", 3, region=lombardia, day=yesterday)
    count("uploads", 20, region=lazio, day=yesterday)
    sicily = Region.objects.get(name="Sicilia")
    count("uploads", 8, region=sicily, day=yesterday)
    day = cells(open_data(since=str(yesterday), until=str(yesterday)), yesterday)
    assert day["IT"]["uploads"] == 31
    assert day["03"]["uploads"] is None
    assert day["19"]["uploads"] is None  # the smallest other non-zero figure
    assert "uploads" in day["19"]["suppressed"]
    assert day["12"]["uploads"] == 20


def test_a_small_country_total_is_withheld_too(yesterday, count, lazio):
    count("uploads", 2, region=lazio, day=yesterday)
    day = cells(open_data(since=str(yesterday), until=str(yesterday)), yesterday)
    assert day["IT"]["uploads"] is None and day["12"]["uploads"] is None


def test_the_threshold_is_a_setting(yesterday, count, lazio, settings):
    settings.STATISTICS_SUPPRESS_BELOW = 10
    count("uploads", 7, region=lazio, day=yesterday)
    count("uploads", 30, region=Region.objects.get(name="Sicilia"), day=yesterday)
    count("uploads", 40, region=Region.objects.get(name="Veneto"), day=yesterday)
    data = open_data(since=str(yesterday), until=str(yesterday))
    assert data["suppression_threshold"] == 10
    assert cells(data, yesterday)["12"]["uploads"] is None


def test_the_csv_marks_withheld_figures(yesterday, count, lazio, lombardia):
    count("uploads", 3, region=lombardia, day=yesterday)
    count("uploads", 20, region=lazio, day=yesterday)
    response = Client().get(
        "/open-data/daily.csv", {"since": str(yesterday), "until": str(yesterday)}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "public" in response["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_area = {row["area"]: row for row in rows}
    assert by_area["IT"]["uploads"] == "23"
    assert by_area["03"]["uploads"] == "<5"
    assert by_area["12"]["uploads"] == "<5"  # the complement: 23 - 20 would give 3 away
    assert by_area["20"]["uploads"] == "0"


def test_today_is_never_published_it_is_not_over(count, lazio):
    count("uploads", 50, region=lazio)
    data = open_data(since=str(local_day() - timedelta(days=1)), until=str(local_day()))
    assert {row["day"] for row in data["rows"]} == {str(local_day() - timedelta(days=1))}


def test_the_default_is_the_last_ninety_complete_days(db):
    days = {row["day"] for row in open_data()["rows"]}
    assert len(days) == 90
    assert max(days) == str(local_day() - timedelta(days=1))


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-13-01"},
        {"since": "yesterday"},
        {"since": "2026-03-10", "until": "2026-03-01"},
        {"since": "2020-01-01", "until": "2026-01-01"},
    ],
)
def test_bad_ranges_are_refused(params, db):
    response = Client().get("/open-data/daily.json", params)
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


def test_it_is_cached_between_requests(yesterday, count, lazio):
    count("uploads", 20, region=lazio, day=yesterday)
    first = open_data(since=str(yesterday), until=str(yesterday))
    count("uploads", 20, region=lazio, day=yesterday)
    assert open_data(since=str(yesterday), until=str(yesterday)) == first


def test_it_is_public_but_the_dashboard_is_not(db):
    assert Client().get("/open-data/daily.csv").status_code == 200
    assert Client().get("/statistics/").status_code == 302
