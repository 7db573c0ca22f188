"""Open data: the country's, each region's and abroad's daily figures, small counts withheld.

What is withheld is decided by the one rule (authority/statistics/disclosure.py, explained in
docs/statistics.md): `null` in JSON, `withheld` in CSV, and named in the row's `suppressed`
list; a zero is published. The country's figure adds up the regions and abroad (uploads and
reports of people living abroad, province EX, belong to no region). `codes_issued` adds up
codes issued and codes authorized, each a figure of its own in the dashboard's downloads: it
is published only when both are.

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
from authority.dashboard.counters import ABROAD_CODE, Counter, counters
from authority.ingestion import metrics as device_metrics
from authority.ingestion.analytics import metrics as app_metrics
from authority.keys import metrics as key_metrics
from authority.otps import metrics as code_metrics
from authority.statistics.disclosure import COUNTRY

# How long after midnight yesterday's figures are final (the counter buffer flushes every
# STATISTICS_FLUSH_SECONDS).
SETTLE = timedelta(hours=1)
# No figure of this system predates it; earlier dates are mistakes.
FIRST_DAY = date(2020, 1, 1)
WITHHELD_IN_CSV = "withheld"

NATIONAL_CODE = "IT"
NATIONAL_NAME = "Italia"
# Names in the open data are Italian, like the regions' and the country's.
ABROAD_OPEN_NAME = "Estero"

# Published column -> the counters it adds up.
OPEN_METRICS: dict[str, tuple[Counter, ...]] = {
    "codes_issued": counters(*code_metrics.GRANTED),
    "codes_used": counters(code_metrics.OTP_REDEEMED),
    "uploads": counters(device_metrics.UPLOADS),
    "keys_published": counters(key_metrics.KEYS_PUBLISHED),
    "exposure_notifications": counters(app_metrics.EXPOSURE_NOTIFICATIONS),
    "apps_reporting": counters(app_metrics.APP_REPORTS),
}


@dataclass
class Row:
    day: date
    area: str
    area_name: str
    values: dict[str, int | None]
    suppressed: list[str] = field(default_factory=list)


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
    k = settings.STATISTICS_SUPPRESS_BELOW
    wanted = {counter for group in OPEN_METRICS.values() for counter in group}
    figures = selectors.published_figures(since, until, wanted, k=k)
    areas = [
        (COUNTRY, NATIONAL_CODE, NATIONAL_NAME),
        *(
            (code, code, name)
            for code, name in Region.objects.order_by("code").values_list("code", "name")
        ),
        (ABROAD_CODE, ABROAD_CODE, ABROAD_OPEN_NAME),
    ]
    rows: list[Row] = []
    day = since
    while day <= until:
        for area, code, name in areas:
            values = {
                column: figures.figure([(day, counter) for counter in group], area)
                for column, group in OPEN_METRICS.items()
            }
            withheld = [column for column, value in values.items() if value is None]
            rows.append(Row(day, code, name, values, withheld))
        day += timedelta(days=1)
    return DailyTable(since=since, until=until, k=k, rows=rows)


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
