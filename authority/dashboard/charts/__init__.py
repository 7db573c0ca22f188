"""The dashboard's charts: what each one shows and to whom, its table (tables.py, aggregate
queries of the counters) and its Plotly figure (figures.py, drawn from that table)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from authority.dashboard.charts import federation, figures, tables
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

    @property
    def notes(self) -> list[str]:
        """What the page says under the chart about this period (days without an estimate)."""
        return self.table.notes


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
            " permission on. Each app reports at most once a month, and only a sample of them"
            " does (the sampling rates of the apps' settings): the dashed line divides each"
            " day's reports by the rate in force that day, an estimate of the apps whose"
            " monthly report fell on that day."
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
            " fast. The strip below is the cover traffic the apps' settings ask of each app:"
            " dummy requests per app and day, on average (iOS apps send their dummy uploads"
            " only when opened in time, so fewer)."
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
        "federation-uploaded",
        gettext_lazy("Keys uploaded to the European gateway"),
        gettext_lazy(
            "Our published keys the gateway stored each day, for the countries the patients"
            " said they visited (nothing while federation is off)."
        ),
        Audience.NATIONAL,
        federation.keys_uploaded_per_day,
        federation.keys_uploaded_figure,
    ),
    Chart(
        "federation-received",
        gettext_lazy("Keys received from the European gateway"),
        gettext_lazy(
            "Keys of other countries kept for our phones each day (verified and valid for"
            " phones), by country of origin."
        ),
        Audience.NATIONAL,
        federation.keys_received_per_day,
        federation.keys_received_figure,
    ),
    Chart(
        "federation-refused",
        gettext_lazy("Batches refused in the exchange with the gateway"),
        gettext_lazy(
            "Parts of downloaded batches we refused because they did not verify (their keys"
            " reach no phone), and our uploads the gateway refused; the hover label says why."
        ),
        Audience.NATIONAL,
        federation.batches_refused_per_day,
        federation.batches_refused_figure,
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
