"""The dashboard's charts: what each one shows and to whom, its table (tables.py, aggregate
queries of the counters) and its Plotly figure (figures.py, drawn from that table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from authority.dashboard.charts import figures, tables
from authority.dashboard.charts.tables import Table
from authority.dashboard.selectors import Scope


class Audience(Enum):
    EVERYONE = "everyone"  # anyone who may see the dashboard, any scope
    ADMINISTRATORS = "administrators"  # administrators only, any scope
    NATIONAL = "national"  # administrators looking at the whole country
    REGIONAL = "regional"  # anyone looking at one region


@dataclass
class ChartData:
    """A chart built for one scope: its table, and its figure as JSON types."""

    table: Table
    figure: dict[str, Any]

    @property
    def empty(self) -> bool:
        return self.table.empty


@dataclass(frozen=True)
class Chart:
    slug: str
    title: Promise
    description: Promise
    audience: Audience
    table: Callable[[Scope], Table]
    figure: Callable[[Table], figures.Figure]
    wide: bool = False  # takes the page's whole width (long axes, many bars)

    def build(self, scope: Scope) -> ChartData:
        table = self.table(scope)
        return ChartData(table, figures.as_json(self.figure(table)))


CHARTS: list[Chart] = [
    Chart(
        "codes",
        gettext_lazy("Codes per day"),
        gettext_lazy(
            "Codes issued by staff, authorized from the app, used for an upload, expired unused"
            " and revoked."
        ),
        Audience.EVERYONE,
        tables.codes_per_day,
        figures.codes_per_day,
        wide=True,
    ),
    Chart(
        "funnel",
        gettext_lazy("From code to published key"),
        gettext_lazy(
            "Over the period: codes issued or authorized, codes used, uploads that carried keys,"
            " and keys published to phones."
        ),
        Audience.EVERYONE,
        tables.code_funnel,
        figures.code_funnel,
    ),
    Chart(
        "time-to-redeem",
        gettext_lazy("Time from code to upload"),
        gettext_lazy("How long patients took to use their code."),
        Audience.EVERYONE,
        tables.time_to_redeem,
        figures.time_to_redeem,
    ),
    Chart(
        "uploads",
        gettext_lazy("Uploads and keys per day"),
        gettext_lazy("Uploads accepted from the app and the keys they carried."),
        Audience.EVERYONE,
        tables.uploads_per_day,
        figures.uploads_per_day,
    ),
    Chart(
        "keys-per-upload",
        gettext_lazy("Keys per upload"),
        gettext_lazy("How many keys each upload carried (the app keeps 14 days of keys)."),
        Audience.EVERYONE,
        tables.keys_per_upload,
        figures.keys_per_upload,
    ),
    Chart(
        "publication",
        gettext_lazy("Publication per day"),
        gettext_lazy("Keys published to phones, and batch files added to the index."),
        Audience.EVERYONE,
        tables.publication_per_day,
        figures.publication_per_day,
    ),
    Chart(
        "app-info",
        gettext_lazy("App operational info per day"),
        gettext_lazy(
            "Apps that reported, exposure notifications they had shown, and apps with each"
            " permission on."
        ),
        Audience.EVERYONE,
        tables.app_info_per_day,
        figures.app_info_per_day,
    ),
    Chart(
        "failed-checks",
        gettext_lazy("Refused codes per day (whole country)"),
        gettext_lazy("Code checks and uploads refused for an unknown, used or expired code."),
        Audience.EVERYONE,
        tables.failed_checks_per_day,
        figures.failed_checks_per_day,
    ),
    Chart(
        "requests",
        gettext_lazy("Real and dummy requests (whole country)"),
        gettext_lazy(
            "Requests from the app: real ones, cover traffic, and those refused for coming too"
            " fast."
        ),
        Audience.ADMINISTRATORS,
        tables.requests_per_day,
        figures.requests_per_day,
    ),
    Chart(
        "regions",
        gettext_lazy("Regions compared"),
        gettext_lazy(
            "Codes, uploads and keys of each region over the period, and of people living abroad."
        ),
        Audience.NATIONAL,
        tables.regions_compared,
        figures.regions_compared,
        wide=True,
    ),
    Chart(
        "app-info-regions",
        gettext_lazy("App operational info by region"),
        gettext_lazy(
            "Apps reporting, exposure notifications and permissions, by region and abroad."
        ),
        Audience.NATIONAL,
        tables.app_info_by_region,
        figures.app_info_by_region,
        wide=True,
    ),
    Chart(
        "operators",
        gettext_lazy("Codes per operator"),
        gettext_lazy("Who issued or authorized how many codes on which day."),
        Audience.REGIONAL,
        tables.codes_per_operator,
        figures.codes_per_operator,
        wide=True,
    ),
]
CHARTS_BY_SLUG = {chart.slug: chart for chart in CHARTS}
