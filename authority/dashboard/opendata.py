"""Open data: national and regional daily figures, with small counts withheld (DESIGN.md 3.6).

A count from 1 to k-1 (k = STATISTICS_SUPPRESS_BELOW, default 5) is withheld: `null` in JSON,
`withheld` in CSV, and named in the row's `suppressed` list. A zero singles nobody out and is
published. The national figure is the sum of the regions', so withheld figures are chosen
such that subtraction gives none of them away (complementary suppression), not even to
someone who knows one of them exactly (a region's own staff see their region's figures on
the dashboard): the withheld regional figures of a day must add up to k or more, and still
do without any single one of them. The smallest other figures are withheld until that
holds; if it cannot, the national figure is withheld too. Withheld figures all look alike,
so which of them were small is not told either.

A day is published once it is over and its counters have settled (the buffered counters
reach the database within a minute; an hour is left): a figure published once never
changes, and two versions of a day cannot be compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from authority.accounts.models import Region
from authority.dashboard import selectors
from authority.ingestion import metrics as device_metrics
from authority.ingestion.analytics import metrics as app_metrics
from authority.keys import metrics as key_metrics
from authority.otps import metrics as code_metrics

# How long after midnight yesterday's figures are final (the counter buffer flushes every
# STATISTICS_FLUSH_SECONDS).
SETTLE = timedelta(hours=1)
# No figure of this system predates it; earlier dates are mistakes.
FIRST_DAY = date(2020, 1, 1)
WITHHELD_IN_CSV = "withheld"

NATIONAL_CODE = "IT"
NATIONAL_NAME = "Italia"

# Published column -> the counters it adds up.
OPEN_METRICS: dict[str, tuple[str, ...]] = {
    "codes_issued": tuple(code_metrics.GRANTED),
    "codes_used": (code_metrics.OTP_REDEEMED,),
    "uploads": (device_metrics.UPLOADS,),
    "keys_published": (key_metrics.KEYS_PUBLISHED,),
    "exposure_notifications": (app_metrics.EXPOSURE_NOTIFICATIONS,),
    "apps_reporting": (app_metrics.APP_REPORTS,),
}


@dataclass
class Row:
    day: date
    area: str
    area_name: str
    values: dict[str, int | None]
    suppressed: list[str] = field(default_factory=list)

    def withhold(self, column: str) -> None:
        self.values[column] = None
        self.suppressed.append(column)


@dataclass
class DailyTable:
    since: date
    until: date
    k: int
    rows: list[Row]


def last_settled_day() -> date:
    """The newest day whose figures are final: yesterday, from an hour after midnight."""
    return (timezone.localtime() - SETTLE).date() - timedelta(days=1)


def requested_range(params: QueryDict) -> tuple[date, date]:
    """Complete, settled days only; the last OPEN_DATA_DEFAULT_DAYS by default."""
    yesterday = last_settled_day()
    since_text, until_text = params.get("since", ""), params.get("until", "")
    try:
        until = date.fromisoformat(until_text) if until_text else yesterday
        since = date.fromisoformat(since_text) if since_text else None
    except ValueError:
        raise ValueError(_("Dates are written YYYY-MM-DD.")) from None
    if until < FIRST_DAY or (since is not None and since < FIRST_DAY):
        raise ValueError(_("There are no figures before %(day)s.") % {"day": FIRST_DAY.isoformat()})
    until = min(until, yesterday)
    if since is None:
        since = until - timedelta(days=settings.OPEN_DATA_DEFAULT_DAYS - 1)
    if since > until:
        raise ValueError(_("The start date is after the end date (or after yesterday)."))
    if (until - since).days >= settings.OPEN_DATA_MAX_DAYS:
        raise ValueError(
            _("Ask for at most %(days)s days at a time.") % {"days": settings.OPEN_DATA_MAX_DAYS}
        )
    return since, until


def daily_table(*, since: date, until: date) -> DailyTable:
    counters = sorted({metric for group in OPEN_METRICS.values() for metric in group})
    cells = selectors.day_region_totals(since, until, counters)
    regions = list(Region.objects.order_by("code").values_list("pk", "code", "name"))
    k = settings.STATISTICS_SUPPRESS_BELOW
    rows: list[Row] = []
    day = since
    while day <= until:
        regional = [
            Row(day, code, name, _sums(cells.get((day, pk), {}))) for pk, code, name in regions
        ]
        national = Row(day, NATIONAL_CODE, NATIONAL_NAME, _national_sums(regional))
        _suppress_small_counts(national, regional, k)
        rows.append(national)
        rows.extend(regional)
        day += timedelta(days=1)
    return DailyTable(since=since, until=until, k=k, rows=rows)


def _sums(values: dict[str, int]) -> dict[str, int | None]:
    return {column: sum(values.get(m, 0) for m in group) for column, group in OPEN_METRICS.items()}


def _national_sums(regional: list[Row]) -> dict[str, int | None]:
    return {column: sum(row.values[column] or 0 for row in regional) for column in OPEN_METRICS}


def _is_small(value: int | None, k: int) -> bool:
    return value is not None and 0 < value < k


def _suppress_small_counts(national: Row, regional: list[Row], k: int) -> None:
    for column in OPEN_METRICS:
        withheld = [row for row in regional if _is_small(row.values[column], k)]
        if withheld:
            others = sorted(
                (row for row in regional if row not in withheld and (row.values[column] or 0) > 0),
                key=lambda row: row.values[column] or 0,
            )
            values = [row.values[column] or 0 for row in withheld]
            while not _safe(values, k) and others:
                withheld.append(others.pop(0))
                values.append(withheld[-1].values[column] or 0)
            if not _safe(values, k):
                national.withhold(column)
        elif _is_small(national.values[column], k):
            national.withhold(column)
        for row in withheld:
            row.withhold(column)


def _safe(withheld: list[int], k: int) -> bool:
    """Whether the national total minus the published figures reveals none of these: their
    sum is k or more, with or without any single one of them."""
    total = sum(withheld)
    return total >= k and all(total - value >= k for value in withheld)


def json_document(table: DailyTable) -> dict[str, Any]:
    return {
        "since": table.since.isoformat(),
        "until": table.until.isoformat(),
        "suppression_threshold": table.k,
        "columns": list(OPEN_METRICS),
        "rows": [
            {
                "day": row.day.isoformat(),
                "area": row.area,
                "area_name": row.area_name,
                **row.values,
                "suppressed": row.suppressed,
            }
            for row in table.rows
        ],
    }


def csv_rows(table: DailyTable) -> list[list[Any]]:
    withheld = WITHHELD_IN_CSV
    header: list[Any] = ["day", "area", "area_name", *OPEN_METRICS]
    return [
        header,
        *(
            [
                row.day.isoformat(),
                row.area,
                row.area_name,
                *(withheld if value is None else value for value in row.values.values()),
            ]
            for row in table.rows
        ),
    ]
