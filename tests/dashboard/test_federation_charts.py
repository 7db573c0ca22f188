"""The exchange with the European gateway on the statistics dashboard: keys uploaded, keys
received by country of origin, batches refused, for administrators looking at the whole
country; exact on the page, withheld in the downloads as every download withholds."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest

from authority.statistics.services import local_day
from tests.dashboard.conftest import export

pytestmark = pytest.mark.django_db

FEDERATION = ("federation-uploaded", "federation-received", "federation-refused")


def embedded(client, **params: str) -> dict[str, dict[str, Any]]:
    """Every chart's figure as the page carries it, by chart."""
    html = client.get("/statistics/", params).content.decode()
    return {
        slug: json.loads(body)
        for slug, body in re.findall(
            r'<script id="chart-([-a-z]+)-figure" type="application/json">(.*?)</script>',
            html,
            re.S,
        )
    }


def traces(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {trace["name"]: trace for trace in figure["figure"]["data"]}


@pytest.fixture
def exchange(count) -> str:
    """Yesterday: 300 of our keys uploaded and 3 the day before (the rest of a 207); keys
    from Germany, France, Spain and 3 from Malta; one part refused for its signature, one of
    our uploads refused (400)."""
    day = local_day() - timedelta(days=1)
    count("federation_keys_shared", 300, day=day)
    count("federation_keys_shared", 3, day=day - timedelta(days=1))
    for origin, keys in (("DE", 120), ("FR", 40), ("ES", 30), ("MT", 3)):
        count("federation_keys_received", keys, bucket=origin, day=day)
    count("federation_chunks_refused", 1, bucket="signature", day=day)
    count("federation_keys_refused", 250, bucket="FR", day=day)
    count("federation_uploads_refused", 1, bucket="400", day=day)
    return str(day)


def test_administrators_see_the_exchange_exactly_on_the_page(exchange, administrator, signed_in):
    day = exchange
    figures = embedded(signed_in(administrator), since=day, until=day)
    assert set(FEDERATION) <= set(figures)
    uploaded = traces(figures["federation-uploaded"])["Keys uploaded to the gateway"]
    assert uploaded["type"] == "bar" and uploaded["x"] == [day] and uploaded["y"] == [300]
    received = figures["federation-received"]
    assert received["figure"]["layout"]["barmode"] == "stack"
    by_origin = {name: trace["y"] for name, trace in traces(received).items()}
    # The largest first; Malta's 3 keys are on the page as they are.
    assert list(by_origin) == ["DE", "FR", "ES", "MT"]
    assert by_origin == {"DE": [120], "FR": [40], "ES": [30], "MT": [3]}
    refused = traces(figures["federation-refused"])
    parts = refused["Parts of received batches refused (did not verify)"]
    assert parts["y"] == [1] and "signature does not verify: 1" in parts["customdata"][0]
    uploads = refused["Our uploads refused by the gateway"]
    assert uploads["y"] == [1] and "HTTP 400: 1" in uploads["customdata"][0]


def test_many_countries_of_origin_share_one_bar_beyond_the_largest(administrator, signed_in, count):
    day = local_day() - timedelta(days=1)
    countries = ["AT", "BE", "CY", "DE", "DK", "ES", "FR", "HR", "IE", "LV"]
    for position, origin in enumerate(countries):
        count("federation_keys_received", 100 + position, bucket=origin, day=day)
    figures = embedded(signed_in(administrator), since=str(day), until=str(day))
    bars = traces(figures["federation-received"])
    assert list(bars) == ["LV", "IE", "HR", "FR", "ES", "DK", "DE", "Other countries"]
    assert bars["Other countries"]["y"] == [102 + 101 + 100]
    assert bars["Other countries"]["customdata"] == ["CY 102, BE 101, AT 100"]  # the largest first


def test_the_downloads_withhold_small_counts_and_a_country_a_subtraction_would_give_away(
    exchange, administrator, signed_in
):
    day = exchange
    client = signed_in(administrator)
    params = {"since": str(local_day() - timedelta(days=2)), "until": day}
    uploaded = export(client, "federation-uploaded", **params)["rows"]
    assert uploaded[0] == {
        "day": params["since"],
        "keys_shared": None,
        "suppressed": ["keys_shared"],
    }
    assert uploaded[1]["keys_shared"] == 300
    response = client.get("/statistics/charts/federation-received/data.csv", params)
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    # A column per country of origin, no total beside them: /metrics publishes the day's
    # 193 keys, so with Malta's 3 withheld, the others must not all be shown.
    assert header == ["day", "DE", "FR", "ES", "MT"]
    # Malta's 3 are withheld; Spain's 30 with them would still leave the 3 to France, who
    # knows its own 40 (the gateway's countries know their keys): France's go too. Germany's
    # are shown: 193 - 120 = 73 keys for three countries tell nobody's number.
    assert rows[-1] == [day, "120", "withheld", "withheld", "withheld"]
    assert rows[0] == [params["since"], "0", "0", "0", "0"]  # nothing that day: zeros
    refused = export(client, "federation-refused", **params)["rows"][-1]
    assert refused["parts_refused"] is None and refused["uploads_refused"] is None
    assert set(refused["suppressed"]) >= {"parts_refused", "parts_refused_signature"}


@pytest.mark.parametrize("role", ["supervisor", "operator"])
def test_supervisors_and_operators_get_no_federation_chart(role, exchange, signed_in, request):
    client = signed_in(request.getfixturevalue(role))
    page = client.get("/statistics/")
    if role == "operator":
        assert page.status_code == 403  # no statistics at all
    else:
        assert page.status_code == 200
        shown = [item["chart"].slug for item in page.context["charts"]]
        assert not set(FEDERATION) & set(shown)
        assert not any(f"chart-{slug}" in page.content.decode() for slug in FEDERATION)
    for slug in FEDERATION:
        assert client.get(f"/statistics/charts/{slug}/").status_code == 403
        assert client.get(f"/statistics/charts/{slug}/data.csv").status_code == 403


def test_federation_is_national_an_administrator_looking_at_a_region_has_none(
    exchange, administrator, signed_in, lazio
):
    client = signed_in(administrator)
    regional = [
        item["chart"].slug
        for item in client.get("/statistics/", {"region": lazio.code}).context["charts"]
    ]
    assert "app-info" in regional and not set(FEDERATION) & set(regional)
    response = client.get("/statistics/charts/federation-received/", {"region": lazio.code})
    assert response.status_code == 403


def test_the_charts_are_empty_while_nothing_was_exchanged(administrator, signed_in):
    client = signed_in(administrator)
    for slug in FEDERATION:
        body = client.get(f"/statistics/charts/{slug}/").json()
        assert body["empty"] is True, slug
