"""Every chart's data downloads as CSV and JSON, for the scope on screen."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from authority.dashboard.charts import CHARTS
from authority.statistics.services import local_day
from tests.dashboard.conftest import chart as drawn_chart
from tests.dashboard.conftest import export, rows_by

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_chart_downloads_as_csv(supervisor, signed_in, count, lazio):
    count("otp_issued", 12, region=lazio, operator=supervisor)
    count("otp_expired", 5, region=lazio)
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
        [str(today), "12", "0", "0", "5", "0"],
    ]


def test_a_chart_downloads_as_json_with_its_labels(supervisor, signed_in, count, lazio):
    count("uploads", 20, region=lazio)
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
    assert data["suppression_threshold"] == 5
    assert data["columns"][0] == {"key": "day", "label": "Day"}
    assert data["rows"] == [
        {"day": str(today), "uploads": 20, "uploads_with_keys": 0, "keys": 0, "suppressed": []}
    ]


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


# --- A filter that makes no sense is refused, never silently replaced -------------------------

DATA_ENDPOINTS = [
    "/statistics/charts/codes/",
    "/statistics/charts/codes/data.json",
    "/statistics/charts/codes/data.csv",
]


def refusal(response) -> str:
    """The messages of a 400, whether the body is JSON or plain text."""
    assert response.status_code == 400, response.content
    if response["Content-Type"] == "application/json":
        return " ".join(m for messages in response.json()["errors"].values() for m in messages)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    return response.content.decode()


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
@pytest.mark.parametrize(
    "params",
    [
        {"until": "0001-01-01"},
        {"since": "0001-01-01"},
        {"since": "9999-12-31"},
        {"until": "9999-12-31"},
        {"since": "2019-12-31", "until": "2020-01-10"},
    ],
)
def test_dates_that_make_no_sense_are_refused_with_a_message(path, params, supervisor, signed_in):
    response = signed_in(supervisor).get(path, params)
    assert "Choose a date between 1 January 2020 and " in refusal(response)


@pytest.mark.parametrize("params", [{"until": "0001-01-01"}, {"since": "9999-12-31"}])
def test_the_page_shows_why_a_date_makes_no_sense(params, supervisor, signed_in):
    page = signed_in(supervisor).get("/statistics/", params)
    assert page.status_code == 200
    assert "Choose a date between 1 January 2020 and " in page.content.decode()
    assert page.context["scope"].until == local_day()  # the default period meanwhile


def test_a_date_that_does_not_exist_is_refused_in_json(supervisor, signed_in):
    response = signed_in(supervisor).get(
        "/statistics/charts/codes/data.json", {"since": "2026-13-01"}
    )
    assert response.status_code == 400
    assert response.json() == {"errors": {"since": ["Enter a valid date."]}}


def test_a_date_that_does_not_exist_is_refused_in_csv(supervisor, signed_in):
    response = signed_in(supervisor).get(
        "/statistics/charts/codes/data.csv", {"since": "2026-13-01"}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "Enter a valid date.\n"


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
def test_an_end_before_the_start_is_refused(path, supervisor, signed_in):
    response = signed_in(supervisor).get(path, {"since": "2026-05-10", "until": "2026-05-01"})
    assert refusal(response).strip() == "The end date is before the start date."


def test_an_end_before_the_start_is_shown_on_the_page(supervisor, signed_in):
    page = signed_in(supervisor).get("/statistics/", {"since": "2026-05-10", "until": "2026-05-01"})
    assert page.status_code == 200
    assert "The end date is before the start date." in page.content.decode()


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
def test_a_start_after_today_is_refused(path, supervisor, signed_in):
    response = signed_in(supervisor).get(path, {"since": str(local_day() + timedelta(days=3))})
    assert refusal(response).strip() == "The start date is after today."


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
def test_a_range_too_long_is_refused(path, supervisor, signed_in, settings):
    settings.DASHBOARD_MAX_DAYS = 10
    response = signed_in(supervisor).get(path, {"since": "2026-01-01", "until": "2026-01-20"})
    assert refusal(response).strip() == "Choose at most 10 days."


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
def test_six_years_are_refused_with_the_default_limit(path, supervisor, signed_in):
    response = signed_in(supervisor).get(path, {"since": "2020-01-01", "until": "2026-01-01"})
    assert refusal(response).strip() == "Choose at most 1100 days."


@pytest.mark.parametrize("path", DATA_ENDPOINTS)
def test_a_start_alone_is_checked_against_today(path, supervisor, signed_in, settings):
    settings.DASHBOARD_MAX_DAYS = 10
    client = signed_in(supervisor)
    too_early = str(local_day() - timedelta(days=10))
    assert refusal(client.get(path, {"since": too_early})).strip() == "Choose at most 10 days."
    assert client.get(path, {"since": str(local_day() - timedelta(days=9))}).status_code == 200


def test_a_start_alone_long_ago_is_refused(supervisor, signed_in):
    response = signed_in(supervisor).get(
        "/statistics/charts/codes/data.json", {"since": "2020-01-01"}
    )
    assert response.json() == {"errors": {"since": ["Choose at most 1100 days."]}}


def test_an_end_alone_gets_the_default_window_before_it(supervisor, signed_in, settings):
    settings.DASHBOARD_MAX_DAYS = 10
    settings.DASHBOARD_DEFAULT_DAYS = 7
    rows = export(signed_in(supervisor), "codes", until="2026-05-20")["rows"]
    assert [row["day"] for row in rows] == [f"2026-05-{day}" for day in range(14, 21)]


def test_the_page_keeps_showing_a_range_too_long(supervisor, signed_in, settings):
    settings.DASHBOARD_MAX_DAYS = 10
    page = signed_in(supervisor).get("/statistics/", {"since": str(local_day() - timedelta(30))})
    assert page.status_code == 200
    assert "Choose at most 10 days." in page.content.decode()


# --- Exports withhold small counts (DESIGN.md 3.6) ---------------------------------------------


def test_small_counts_are_withheld_in_csv_and_zeros_published(supervisor, signed_in, count, lazio):
    count("app_reports", 1, region=lazio, bucket="google")
    count("exposure_permission_on", 1, region=lazio)
    count("bluetooth_on", 7, region=lazio)
    today = str(local_day())
    response = signed_in(supervisor).get(
        "/statistics/charts/app-info/data.csv", {"since": today, "until": today}
    )
    header, row = read_csv(response)
    # Marked like the open data's: a figure withheld to protect a small one is not small.
    assert row[:6] == [today, "withheld", "0", "withheld", "7", "0"]
    # The estimate from the withheld count is withheld too; that from the zero is published.
    figures = dict(zip(header, row, strict=True))
    assert figures["estimated_apps"] == "withheld"
    assert figures["estimated_apps_with_exposure"] == "0"


def test_small_counts_are_null_in_json_and_named(administrator, signed_in, count, lazio):
    count("keys_per_upload", 1, region=lazio, bucket="7")
    count("keys_per_upload", 5, region=lazio, bucket="14")
    rows = export(signed_in(administrator), "keys-per-upload")["rows"]
    by_keys = {row["keys"]: row for row in rows}
    assert by_keys[7] == {"keys": 7, "uploads": None, "suppressed": ["uploads"]}
    # The buckets add up to the period's uploads (the uploads download): with the 5 shown,
    # the 1 would follow by subtraction, so the smallest other bucket is withheld with it.
    assert by_keys[14] == {"keys": 14, "uploads": None, "suppressed": ["uploads"]}
    assert by_keys[0] == {"keys": 0, "uploads": 0, "suppressed": []}


def test_the_threshold_follows_the_setting(supervisor, signed_in, count, lazio, settings):
    settings.STATISTICS_SUPPRESS_BELOW = 10
    count("uploads", 9, region=lazio)
    data = export(signed_in(supervisor), "uploads", since=str(local_day()))
    assert data["suppression_threshold"] == 10
    assert data["rows"][-1]["uploads"] is None


def test_the_chart_drawn_for_staff_stays_exact(supervisor, signed_in, count, lazio):
    count("uploads", 1, region=lazio)
    figure = drawn_chart(signed_in(supervisor), "uploads")["figure"]
    assert figure["data"][0]["y"][-1] == 1


def test_a_lone_small_region_takes_another_with_it(administrator, signed_in, count, lazio):
    from authority.accounts.models import Region

    count("uploads", 2, region=lazio)
    count("uploads", 6, region=Region.objects.get(code="03"))  # Lombardia
    count("uploads", 40, region=Region.objects.get(code="05"))  # Veneto
    rows = rows_by(export(signed_in(administrator), "regions"), "region")
    # The country's 48 uploads (in other downloads) minus the regions shown would give
    # Lazio's 2 away; with Lombardia's 6 alone beside it, Lombardia's staff (who know their
    # 6) would get the 2: Veneto's 40 is withheld too, as the open data withholds it.
    assert (rows["Lazio"]["uploads"], rows["Lazio"]["suppressed"]) == (None, ["uploads"])
    assert (rows["Lombardia"]["uploads"], rows["Lombardia"]["suppressed"]) == (None, ["uploads"])
    assert rows["Veneto"]["uploads"] is None
    assert rows["Sicilia"]["uploads"] == 0


def test_every_region_table_is_withheld_alike(administrator, signed_in, count, lazio):
    from authority.accounts.models import Region

    count("app_reports", 3, region=lazio, bucket="google")
    count("app_reports", 8, region=Region.objects.get(code="03"), bucket="google")
    rows = rows_by(export(signed_in(administrator), "app-info-regions"), "region")
    assert rows["Lazio"]["app_reports"] is None
    assert rows["Lombardia"]["app_reports"] is None


def test_the_operators_download_has_no_total_to_subtract_from(
    supervisor, operator, signed_in, count, lazio
):
    count("otp_issued", 2, region=lazio, operator=operator)
    count("otp_authorized", 9, region=lazio, operator=operator)
    data = export(signed_in(supervisor), "operators", region=lazio.code)
    assert "total" not in [column["key"] for column in data["columns"]]
    [row] = data["rows"]
    assert (row["issued"], row["authorized"], row["suppressed"]) == (None, 9, ["issued"])
    csv_rows = read_csv(
        signed_in(supervisor).get("/statistics/charts/operators/data.csv", {"region": lazio.code})
    )
    assert csv_rows[0] == ["day", "operator", "username", "issued", "authorized"]
    assert csv_rows[1][3:] == ["withheld", "9"]
