"""Everything published together, on random counts: the open data, every day-by-day download
of each region and of the country, the regions compared and the funnel over every period.
A reader who holds all of it, and a region's staff who know their region's figures besides,
still cannot work out a withheld figure of one day and one area, nor tell it is below k.
The judge is tests/statistics/reader.py (integer programming over every published figure).
"""

from __future__ import annotations

from datetime import timedelta
from itertools import product

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from authority.accounts.models import Region
from authority.dashboard.opendata import last_settled_day
from authority.statistics.models import NATIONAL, DailyCounter
from authority.statistics.services import increment
from tests.conftest import IN_CI
from tests.statistics.reader import Reader, assert_safe

pytestmark = pytest.mark.django_db

K = 5
COUNTERS = ("otp_issued", "otp_authorized", "uploads")
AREAS = ("12", "03", "19", "EX")  # Lazio, Lombardia, Sicilia, abroad; every other region 0
COUNTRY = "IT"
DAYS = 2

count = st.one_of(st.just(0), st.integers(1, K - 1), st.integers(K, 40))


@settings(
    max_examples=25 if IN_CI else 4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # Each example makes some forty requests: shrinking a failure would take many minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(values=st.lists(count, min_size=DAYS * 3 * 4, max_size=DAYS * 3 * 4))
def test_all_releases_together_give_no_withheld_figure_away(
    values, administrator, signed_in, settings
):
    settings.STATISTICS_SUPPRESS_BELOW = K
    DailyCounter.objects.all().delete()
    cache.clear()
    last = last_settled_day()
    days = [last - timedelta(days=DAYS - 1 - d) for d in range(DAYS)]
    regions = {code: Region.objects.get(code=code).pk for code in AREAS if code != "EX"}
    truth: dict[tuple, int] = {}
    cells = iter(values)
    for (d, day), counter, area in product(enumerate(days), COUNTERS, AREAS):
        value = next(cells)
        if counter != "uploads" and area == "EX":
            value = 0  # codes always belong to a region
        truth[(d, counter, area)] = value
        if value:
            region_id = NATIONAL if area == "EX" else regions[area]
            increment(counter, region_id=region_id, amount=value, day=day)
    for d, counter in product(range(DAYS), COUNTERS):
        truth[(d, counter, COUNTRY)] = sum(truth[(d, counter, a)] for a in AREAS)

    published: list[tuple[list[tuple], int]] = []  # (canonical cells, figure shown)

    def shown(value, parts) -> None:
        if value is not None:
            published.append((parts, value))

    # The open data: every area and the country, each day.
    since, until = str(days[0]), str(days[-1])
    client = signed_in(administrator)
    for row in client.get("/open-data/daily.json", {"since": since, "until": until}).json()["rows"]:
        area = row["area"]
        if area not in (*AREAS, COUNTRY):
            assert row["codes_issued"] == row["uploads"] == 0
            continue
        d = days.index(type(days[0]).fromisoformat(row["day"]))
        shown(row["codes_issued"], [(d, "otp_issued", area), (d, "otp_authorized", area)])
        shown(row["uploads"], [(d, "uploads", area)])

    # Day by day, for each region and the country.
    for scope in (*(a for a in AREAS if a != "EX"), COUNTRY):
        params = {"since": since, "until": until}
        if scope != COUNTRY:
            params["region"] = scope
        for slug, columns in (
            ("codes", {"issued": "otp_issued", "authorized": "otp_authorized"}),
            ("uploads", {"uploads": "uploads"}),
        ):
            data = client.get(f"/statistics/charts/{slug}/data.json", params).json()
            for d, row in enumerate(data["rows"]):
                for key, counter in columns.items():
                    shown(row[key], [(d, counter, scope)])
        # The funnel over every period of the scope.
        for first, end in product(range(DAYS), repeat=2):
            if first > end:
                continue
            period = {**params, "since": str(days[first]), "until": str(days[end])}
            rows = client.get("/statistics/charts/funnel/data.json", period).json()["rows"]
            [codes] = [row for row in rows if row["stage"] == "codes"]
            span = range(first, end + 1)
            shown(
                codes["value"],
                [(d, c, scope) for d in span for c in ("otp_issued", "otp_authorized")],
            )

    # The regions compared, over every period.
    for first, end in product(range(DAYS), repeat=2):
        if first > end:
            continue
        period = {"since": str(days[first]), "until": str(days[end])}
        for row in client.get("/statistics/charts/regions/data.json", period).json()["rows"]:
            area = row["region_code"]
            span = range(first, end + 1)
            if area not in AREAS:
                assert row["codes"] == row["uploads"] == 0
                continue
            shown(
                row["codes"], [(d, c, area) for d in span for c in ("otp_issued", "otp_authorized")]
            )
            shown(row["uploads"], [(d, "uploads", area) for d in span])

    note(f"counts: {truth}")
    # Every published figure is the truth, and together they tell nothing withheld.
    for parts, value in published:
        assert value == sum(truth[cell] for cell in parts), parts
    known = {parts[0] for parts, _v in published if len(parts) == 1}
    known |= {cell for parts, value in published if value == 0 for cell in parts}
    withheld = {cell: value for cell, value in truth.items() if cell not in known}
    assert all(value > 0 for value in withheld.values())  # zeros are always published
    for own in ["nobody", *(a for a in AREAS)]:
        reader = Reader()
        for cell, value in truth.items():
            if cell in withheld and cell[2] != own:
                reader.unknown(cell)
            else:
                reader.knows(cell, value)
        for d, counter in product(range(DAYS), COUNTERS):
            reader.adds_up((d, counter, COUNTRY), [(d, counter, a) for a in AREAS])
        for number, (parts, value) in enumerate(published):
            reader.knows(("shown", number), value)
            reader.adds_up(("shown", number), parts)
        judged = {
            cell: value
            for cell, value in withheld.items()
            if own == "nobody" or cell[2] not in (own, COUNTRY)
        }
        assert_safe(reader, judged, K)
