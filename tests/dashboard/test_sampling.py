"""The apps' settings on the statistics: the apps a day's operational-info reports stand for
(count ÷ the sampling rate in force that day), the days a rate changed, and the cover traffic
the settings ask of each app beside the dummy requests counted. Read as the administrator
gets them: the figures embedded in the page, and the downloads."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authority.appconfig.defaults import immuni_defaults
from authority.appconfig.models import SettingsVersion
from authority.statistics.services import local_day
from tests.dashboard.conftest import export

pytestmark = pytest.mark.django_db

ESTIMATE = "Estimated apps (count ÷ sampling rate)"
WITHOUT = "operational_info_without_exposure_sampling_rate"
WITH = "operational_info_with_exposure_sampling_rate"


def at(day: date, hour: int = 0) -> datetime:
    return datetime.combine(day, time(hour), timezone.get_current_timezone())


def publish(number: int, activates_at: datetime, platforms=("android", "ios"), **values: Any):
    """A version of Immuni's defaults with `values` changed, for each platform, in force from
    `activates_at` (no other version: the data migration's are removed by `no_versions`)."""
    for platform in platforms:
        document = immuni_defaults(platform) | values
        overrides = document.pop("overrides", [])
        SettingsVersion.objects.create(
            platform=platform,
            number=number,
            document=document,
            overrides=overrides,
            published_at=activates_at,
            activates_at=activates_at,
        )


@pytest.fixture
def no_versions(db):
    SettingsVersion.objects.all().delete()


def page_figure(client, slug: str, **params: str) -> dict[str, Any]:
    """The chart's figure as embedded in the overview page (json_script), what the browser
    draws without another request."""
    response = client.get("/statistics/", params)
    assert response.status_code == 200
    html = response.content.decode()
    found = re.search(
        rf'<script id="chart-{slug}-figure" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, slug
    return json.loads(found.group(1))


def trace(figure: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [t for t in figure["figure"]["data"] if t.get("name") == name]
    return found


def reports(count, day: date, *, android: int, ios: int, exposed: int, region) -> None:
    count("app_reports", android, region=region, bucket="android", day=day)
    count("app_reports", ios, region=region, bucket="ios", day=day)
    count("exposure_notifications", exposed, region=region, day=day)


def days(first: date, last: date) -> dict[str, str]:
    return {"since": str(first), "until": str(last)}


# --- The estimate ------------------------------------------------------------------------------


def test_the_estimate_is_the_count_divided_by_the_rate_of_its_day(
    no_versions, administrator, signed_in, count, lazio
):
    """Immuni's defaults (100 % with an exposure, 60 % without), then 50 % without from the
    afternoon of the 8th: the 8th is marked, and each day divides by its own rate."""
    first = local_day() - timedelta(days=3)
    publish(1, at(first - timedelta(days=10)))
    publish(2, at(first + timedelta(days=1), 15), **{WITHOUT: 0.5})
    reports(count, first, android=60, ios=40, exposed=10, region=lazio)
    reports(count, first + timedelta(days=1), android=60, ios=40, exposed=10, region=lazio)
    reports(count, first + timedelta(days=2), android=30, ios=20, exposed=0, region=lazio)
    client = signed_in(administrator)
    figure = page_figure(client, "app-info", **days(first, first + timedelta(days=2)))
    line = trace(figure, ESTIMATE)
    assert line["x"] == [str(first + timedelta(days=n)) for n in range(3)]
    # 10 / 1 + 90 / 0.6; on the day of the change and after, 90 / 0.5 and 50 / 0.5.
    assert line["y"] == [160, 190, 100]
    assert line["line"]["dash"] == "dash"
    assert "rate used: 60 % (100 % with an exposure)" in line["customdata"][0]
    assert "rate used: 50 % (100 % with an exposure)" in line["customdata"][1]
    assert "the sampling rate changed that day" in line["customdata"][1]
    # The counts are still drawn as they are.
    assert trace(figure, "Apps reporting")["y"][:2] == [100, 100]
    # The change is marked on its day, and only there; that day's estimate is circled.
    layout = figure["figure"]["layout"]
    marks = [s for s in layout.get("shapes", []) if s["type"] == "line"]
    assert [mark["x0"] for mark in marks] == [str(first + timedelta(days=1))]
    labels = [a for a in layout["annotations"] if a["text"] == "sampling rate changed"]
    assert [label["x"] for label in labels] == [str(first + timedelta(days=1))]
    circled = trace(figure, "Estimate approximate that day")
    assert circled["x"] == [str(first + timedelta(days=1))] and circled["y"] == [190]


def test_no_estimate_on_a_day_with_a_rate_of_zero_nor_before_the_first_version(
    no_versions, administrator, signed_in, count, lazio
):
    first = local_day() - timedelta(days=5)  # up to yesterday: whole days
    publish(1, at(first + timedelta(days=1), 12))  # the first day has no settings at all
    publish(2, at(first + timedelta(days=3)), **{WITHOUT: 0.0})  # from the 4th day: none sent
    for n in range(5):
        reports(count, first + timedelta(days=n), android=6, ios=6, exposed=0, region=lazio)
    client = signed_in(administrator)
    params = days(first, first + timedelta(days=4))
    figure = page_figure(client, "app-info", **params)
    # Never a division by zero, never a figure made up: a gap in the line.
    assert trace(figure, ESTIMATE)["y"] == [None, 20, 20, None, None]
    assert trace(figure, "Apps reporting")["y"] == [12, 12, 12, 12, 12]
    page = client.get("/statistics/", params).content.decode()
    notes = re.search(r'data-testid="chart-app-info-notes">(.*?)</ul>', page, re.S).group(1)
    assert "No estimate for 1 day: the apps&#x27; settings had no version yet" in notes
    assert "No estimate for 2 days with a sampling rate of 0" in notes
    rows = export(client, "app-info", **params)["rows"]
    assert [row["estimated_apps"] for row in rows] == [None, 20, 20, None, None]
    assert [row["estimate_note"] for row in rows] == [
        "no-settings",
        "",
        "",
        "rate-zero",
        "rate-zero",
    ]
    # A missing estimate is not a withheld one.
    assert all("estimated_apps" not in row["suppressed"] for row in rows)


def test_different_rates_on_android_and_ios_give_an_approximate_estimate(
    no_versions, administrator, signed_in, count, lazio, settings
):
    """Reports with an exposure are not counted per platform, and a download that used the
    platforms' split would give their counts away: the estimate is the middle of what any
    split could give, the same whatever the split."""
    settings.STATISTICS_SUPPRESS_BELOW = 1
    day = local_day() - timedelta(days=2)
    publish(1, at(day - timedelta(days=30)), platforms=("ios",))
    publish(1, at(day - timedelta(days=30)), platforms=("android",), **{WITHOUT: 0.5})
    reports(count, day, android=70, ios=30, exposed=0, region=lazio)
    # The next day, another split of as many reports between the platforms.
    reports(count, day + timedelta(days=1), android=10, ios=90, exposed=0, region=lazio)
    client = signed_in(administrator)
    params = days(day, day + timedelta(days=1))
    figure = page_figure(client, "app-info", **params)
    line = trace(figure, ESTIMATE)
    assert line["y"] == [183, 183]  # between 100 / 0.6 and 100 / 0.5, whatever the split
    assert "between 167 and 200" in line["customdata"][0]
    assert "Android 50 % (100 % with an exposure), iOS 60 %" in line["customdata"][0]
    # The range the reports could stand for, as a band around the line.
    low, high = trace(figure, "Estimate, lowest"), trace(figure, "Estimate, highest")
    assert low["y"] == [167, 167] and high["y"] == [200, 200] and high["fill"] == "tonexty"
    assert high["x"] == params_days(params)
    row = export(client, "app-info", **params)["rows"][0]
    assert (row["estimated_apps"], row["estimated_apps_low"], row["estimated_apps_high"]) == (
        183,
        167,
        200,
    )
    assert row["estimate_note"] == "platforms-differ"
    assert row["android_without_exposure_sampling_rate"] == 0.5
    assert row["ios_without_exposure_sampling_rate"] == 0.6


def params_days(params: dict[str, str]) -> list[str]:
    first, last = date.fromisoformat(params["since"]), date.fromisoformat(params["until"])
    return [str(first + timedelta(days=n)) for n in range((last - first).days + 1)]


def test_a_build_override_of_a_rate_makes_the_estimate_approximate(
    no_versions, administrator, signed_in, count, lazio, settings
):
    settings.STATISTICS_SUPPRESS_BELOW = 1
    day = local_day() - timedelta(days=1)
    override = {"from_build": 500, "to_build": None, "values": {WITHOUT: 0.3}}
    publish(1, at(day - timedelta(days=30)), overrides=[override])
    reports(count, day, android=6, ios=6, exposed=0, region=lazio)
    client = signed_in(administrator)
    [row] = export(client, "app-info", **days(day, day))["rows"]
    assert row["estimated_apps"] == 20  # the base document's rate
    assert row["estimate_note"] == "build-override"
    line = trace(page_figure(client, "app-info", **days(day, day)), ESTIMATE)
    assert "a build override gives some builds other rates" in line["customdata"][0]


def test_the_download_has_the_estimate_and_the_rates_and_withholds_the_estimate_of_a_withheld_count(
    no_versions, supervisor, signed_in, count, lazio, lombardia
):
    day = local_day() - timedelta(days=1)
    publish(1, at(day - timedelta(days=30)))
    reports(count, day, android=2, ios=1, exposed=1, region=lazio)  # small: withheld
    reports(count, day, android=40, ios=20, exposed=12, region=lombardia)
    client = signed_in(supervisor)  # Lazio's
    response = client.get("/statistics/charts/app-info/data.csv", days(day, day))
    header, row = list(csv.reader(io.StringIO(response.content.decode())))
    assert header == [
        "day",
        "app_reports",
        "exposure_notifications",
        "exposure_permission_on",
        "bluetooth_on",
        "notification_permission_on",
        "estimated_apps",
        "estimated_apps_with_exposure",
        "estimated_apps_low",
        "estimated_apps_high",
        "android_with_exposure_sampling_rate",
        "android_without_exposure_sampling_rate",
        "ios_with_exposure_sampling_rate",
        "ios_without_exposure_sampling_rate",
        "rate_changed",
        "estimate_note",
    ]
    figures = dict(zip(header, row, strict=True))
    # 3 reports and 1 with an exposure in Lazio: the counts and every estimate from them are
    # withheld (an estimate times its public rate would give the count back).
    for key in ("app_reports", "exposure_notifications", "estimated_apps"):
        assert figures[key] == "withheld", key
    assert figures["estimated_apps_with_exposure"] == "withheld"
    assert figures["estimated_apps_low"] == figures["estimated_apps_high"] == "withheld"
    # The rates are the public settings: always there.
    assert figures["android_without_exposure_sampling_rate"] == "0.6"
    assert figures["ios_with_exposure_sampling_rate"] == "1.0"


def test_the_countrys_download_publishes_the_estimate_of_published_counts(
    no_versions, administrator, signed_in, count, lazio, lombardia
):
    day = local_day() - timedelta(days=1)
    publish(1, at(day - timedelta(days=30)))
    reports(count, day, android=20, ios=20, exposed=10, region=lazio)
    reports(count, day, android=40, ios=20, exposed=12, region=lombardia)
    [row] = export(signed_in(administrator), "app-info", **days(day, day))["rows"]
    assert row["app_reports"] == 100 and row["exposure_notifications"] == 22
    assert row["estimated_apps"] == 152  # 22 / 1 + 78 / 0.6 = 152
    assert row["estimated_apps_with_exposure"] == 22
    assert row["suppressed"] == []


# --- Cover traffic -----------------------------------------------------------------------------


def test_the_requests_chart_shows_the_cover_traffic_the_settings_ask_of_each_app(
    no_versions, administrator, signed_in, count
):
    """A dummy sequence every 10 days, one more request with 50 % (so 2 a sequence on
    average), a dummy report every 5 days: 0.1 * 2 + 0.2 = 0.4 requests per app and day.
    Immuni's defaults: 1/60 * (1 + 0.95 + 0.095 / 0.9) + 1/30 = 0.0676."""
    first = local_day() - timedelta(days=2)
    publish(1, at(first - timedelta(days=30)))
    publish(
        2,
        at(first + timedelta(days=1)),
        dummy_teks_average_opportunity_waiting_time=10 * 86400,
        dummy_teks_request_probabilities=[0.5],
        dummy_analytics_waiting_time=5 * 86400,
    )
    count("dummy_requests", 40, bucket="check-otp", day=first)
    client = signed_in(administrator)
    params = days(first, first + timedelta(days=1))
    figure = page_figure(client, "requests", **params)
    expected = trace(figure, "Dummy requests per app and day, from the settings")
    assert expected["y"] == [0.0676, 0.4]
    assert expected["yaxis"] == "y2" and expected["line"]["shape"] == "hv"
    assert trace(figure, "Dummy requests")["y"] == [40, 0]
    rows = export(client, "requests", **params)["rows"]
    assert [(row["dummy_per_app_android"], row["dummy_per_app_ios"]) for row in rows] == [
        (0.0676, 0.0676),
        (0.4, 0.4),
    ]


def test_platforms_with_different_cover_traffic_get_a_line_each(
    no_versions, administrator, signed_in, count
):
    day = local_day() - timedelta(days=1)
    publish(1, at(day - timedelta(days=30)), platforms=("android",))
    publish(
        1,
        at(day - timedelta(days=30)),
        platforms=("ios",),
        dummy_teks_request_probabilities=[1.0],  # a sequence the app alone stops
    )
    count("dummy_requests", 40, bucket="upload", day=day)
    client = signed_in(administrator)
    figure = page_figure(client, "requests", **days(day, day))
    assert trace(figure, "Dummy requests per app and day, Android settings")["y"] == [0.0676]
    assert trace(figure, "Dummy requests per app and day, iOS settings")["y"] == [None]
    page = client.get("/statistics/", days(day, day)).content.decode()
    assert "a last probability of 1" in page


def test_the_settings_are_read_once_per_page(no_versions, administrator, signed_in, count, lazio):
    publish(1, at(local_day() - timedelta(days=400)))
    count("app_reports", 10, region=lazio, bucket="android")
    client = signed_in(administrator)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/statistics/")  # 90 days, both charts that need them
    assert response.status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if "appconfig_settingsversion" in q["sql"]]
    assert len(reads) == 1
