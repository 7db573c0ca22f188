"""The dashboard's charts: each one a table (what the CSV and JSON exports hold) and a Plotly
figure drawn from that table, built from the counters for one scope.

Figures are plain dicts in Plotly's JSON schema, SVG trace types only (bar, scatter, funnel):
WebGL traces would need 'unsafe-eval' in the Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from authority.accounts.models import Region, User
from authority.dashboard import selectors
from authority.dashboard.selectors import Scope
from authority.ingestion import metrics as device_metrics
from authority.ingestion.analytics import metrics as app_metrics
from authority.keys import metrics as key_metrics
from authority.otps import metrics as code_metrics

# Bootstrap Italia's blues first, then colours that stay apart for colour-blind readers.
PALETTE = [
    "#0066cc",
    "#e67e00",
    "#008055",
    "#cc334d",
    "#5c6f82",
    "#7a3db8",
    "#00264d",
    "#a6a6a6",
    "#b38f00",
    "#00a3cc",
]
GRID = "#e6e9f2"


class Audience(Enum):
    EVERYONE = "everyone"  # anyone who may see the dashboard, any scope
    ADMINISTRATORS = "administrators"  # administrators only, any scope
    NATIONAL = "national"  # administrators looking at the whole country
    REGIONAL = "regional"  # anyone looking at one region


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass
class ChartData:
    columns: list[Column]
    rows: list[list[Any]]
    figure: dict[str, Any]
    dimensions: int = 1  # leading columns that name a row (day, bucket, region...)
    # Columns adding up others of their row: left out of exports, where they would give a
    # withheld count away by subtraction.
    totals: tuple[str, ...] = ()
    # Rows are the regions, which add up to the country (whose figures other downloads give).
    regions: bool = False

    @property
    def empty(self) -> bool:
        """Nothing to draw: every count is zero."""
        return not any(value for row in self.rows for value in row[self.dimensions :])

    def records(self) -> list[dict[str, Any]]:
        keys = [column.key for column in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


@dataclass
class ExportTable:
    """A chart's table as it is downloaded: counts from 1 to k-1 withheld (`None`), and named
    in each row's `suppressed` list (DESIGN.md 3.6)."""

    columns: list[Column]
    rows: list[list[Any]]
    suppressed: list[list[str]]
    k: int

    def records(self) -> list[dict[str, Any]]:
        keys = [column.key for column in self.columns]
        return [
            {**dict(zip(keys, row, strict=True)), "suppressed": withheld}
            for row, withheld in zip(self.rows, self.suppressed, strict=True)
        ]


def exported_table(data: ChartData, *, k: int) -> ExportTable:
    """The table with its small counts withheld, as the open data does: a zero singles nobody
    out and stays. Totals are dropped; in a table of regions, a count withheld alone in its
    column takes the smallest other non-zero count of the column with it, or the country's
    figure would give it away."""
    kept = [i for i, column in enumerate(data.columns) if column.key not in data.totals]
    columns = [data.columns[i] for i in kept]
    rows = [[row[i] for i in kept] for row in data.rows]
    counts = range(data.dimensions, len(columns))
    withheld = {(r, c) for r, row in enumerate(rows) for c in counts if 0 < row[c] < k}
    if data.regions:
        for c in counts:
            small = [r for r in range(len(rows)) if (r, c) in withheld]
            others = [r for r in range(len(rows)) if (r, c) not in withheld and rows[r][c] > 0]
            if len(small) == 1 and others:
                withheld.add((min(others, key=lambda r: rows[r][c]), c))
    for r, c in withheld:
        rows[r][c] = None
    suppressed = [[columns[c].key for c in counts if (r, c) in withheld] for r in range(len(rows))]
    return ExportTable(columns, rows, suppressed, k)


@dataclass(frozen=True)
class Chart:
    slug: str
    title: Promise
    description: Promise
    audience: Audience
    build: Callable[[Scope], ChartData]
    wide: bool = False  # takes the page's whole width (long axes, many bars)


# --- Figure helpers ------------------------------------------------------------------------


def _layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": {"family": "Titillium Web, Geneva, Tahoma, sans-serif", "size": 13},
        "colorway": PALETTE,
        "margin": {"l": 56, "r": 24, "t": 16, "b": 40},
        "legend": {"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "separators": ",." if get_language() == "it" else ".,",
        "xaxis": {"gridcolor": GRID, "automargin": True},
        "yaxis": {"gridcolor": GRID, "rangemode": "tozero", "automargin": True},
        "height": 360,
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _right_axis(title: Any) -> dict[str, Any]:
    """A second y axis on the right, for a line drawn over bars of another unit."""
    return {
        "title": {"text": title},
        "overlaying": "y",
        "side": "right",
        "tickmode": "auto",
        "tickformat": ",d",
        "rangemode": "tozero",
        "showgrid": False,
    }


def _time_layout(**extra: Any) -> dict[str, Any]:
    return _layout(hovermode="x unified", xaxis={"type": "date"}, **extra)


def _iso(days: list[date]) -> list[str]:
    return [day.isoformat() for day in days]


def _series(values: dict[date, int], days: list[date]) -> list[int]:
    return [values.get(day, 0) for day in days]


def _daily_table(
    scope: Scope, columns: list[tuple[str, str, dict[date, int]]]
) -> tuple[list[Column], list[list[Any]]]:
    """A row per day of the scope (zeros included), a column per (key, label, values)."""
    days = scope.days
    header = [Column("day", _("Day")), *(Column(key, label) for key, label, _v in columns)]
    rows = [[day.isoformat(), *(values.get(day, 0) for _k, _l, values in columns)] for day in days]
    return header, rows


def _line(name: str, x: list[str], y: list[int], **extra: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "name": name, "x": x, "y": y, **extra}


def _bar(name: str, x: list[Any], y: list[Any], **extra: Any) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": x, "y": y, **extra}


def _columns_as_traces(
    header: list[Column], rows: list[list[Any]], make: Callable[..., dict[str, Any]]
) -> list[dict[str, Any]]:
    x = [row[0] for row in rows]
    return [make(column.label, x, [row[i] for row in rows]) for i, column in enumerate(header) if i]


# --- Codes -----------------------------------------------------------------------------------


def codes_per_day(scope: Scope) -> ChartData:
    series = selectors.daily_totals(
        scope,
        [
            code_metrics.OTP_ISSUED,
            code_metrics.OTP_AUTHORIZED,
            code_metrics.OTP_REDEEMED,
            code_metrics.OTP_EXPIRED,
            code_metrics.OTP_REVOKED,
        ],
    )
    header, rows = _daily_table(
        scope,
        [
            ("issued", _("Issued"), series[code_metrics.OTP_ISSUED]),
            ("authorized", _("Authorized from the app"), series[code_metrics.OTP_AUTHORIZED]),
            ("redeemed", _("Used for an upload"), series[code_metrics.OTP_REDEEMED]),
            ("expired", _("Expired unused"), series[code_metrics.OTP_EXPIRED]),
            ("revoked", _("Revoked"), series[code_metrics.OTP_REVOKED]),
        ],
    )
    return ChartData(
        header, rows, {"data": _columns_as_traces(header, rows, _line), "layout": _time_layout()}
    )


def code_funnel(scope: Scope) -> ChartData:
    codes = selectors.totals(
        scope,
        [
            code_metrics.OTP_ISSUED,
            code_metrics.OTP_AUTHORIZED,
            code_metrics.OTP_REDEEMED,
            device_metrics.UPLOADS_WITH_KEYS,
            key_metrics.KEYS_PUBLISHED,
        ],
    )
    stages = [
        (
            "codes",
            _("Codes issued or authorized"),
            codes.get(code_metrics.OTP_ISSUED, 0) + codes.get(code_metrics.OTP_AUTHORIZED, 0),
        ),
        ("redeemed", _("Codes used"), codes.get(code_metrics.OTP_REDEEMED, 0)),
        (
            "uploads_with_keys",
            _("Uploads with keys"),
            codes.get(device_metrics.UPLOADS_WITH_KEYS, 0),
        ),
        ("keys_published", _("Keys published"), codes.get(key_metrics.KEYS_PUBLISHED, 0)),
    ]
    header = [Column("stage", _("Stage")), Column("label", _("Label")), Column("value", _("Count"))]
    rows: list[list[Any]] = [[key, label, value] for key, label, value in stages]
    labels = [label for _key, label, _value in stages]
    values = [value for _key, _label, value in stages]
    # Keys are not codes: an upload carries up to 14. On the codes' scale their stage would
    # dwarf the others, so it gets its own axis and the width of the uploads that carried them.
    widest = max(values[:3]) or 1
    keys_width = values[2] or widest * 0.3
    half = widest / 2 * 1.05
    codes_trace = {
        "type": "funnel",
        "y": labels[:3],
        "x": values[:3],
        "texttemplate": "%{value:,d}<br>%{percentInitial:.0%}",
        "marker": {"color": PALETTE[:3]},
        "connector": {"line": {"color": GRID}},
        "hoverinfo": "y+x",
    }
    keys_trace = {
        "type": "funnel",
        "y": labels[3:],
        "x": values[3:],
        "xaxis": "x2",
        "texttemplate": "%{value:,d}",
        "marker": {"color": [PALETTE[6]]},
        "hoverinfo": "y+x",
    }
    scale = (values[3] or 1) / keys_width
    layout = _layout(
        margin={"l": 180},
        showlegend=False,
        xaxis={"visible": False, "range": [-half, half], "fixedrange": True},
        xaxis2={
            "visible": False,
            "overlaying": "x",
            "range": [-half * scale, half * scale],
            "fixedrange": True,
        },
        yaxis={"rangemode": "normal", "categoryorder": "array", "categoryarray": labels},
    )
    return ChartData(
        header, rows, {"data": [codes_trace, keys_trace], "layout": layout}, dimensions=2
    )


def time_to_redeem(scope: Scope) -> ChartData:
    counts = selectors.bucket_totals(scope, code_metrics.OTP_TIME_TO_REDEEM)
    buckets = [name for _limit, name in code_metrics.TIME_TO_REDEEM_BUCKETS]
    buckets.append(code_metrics.LONGER_THAN_ALL_BUCKETS)
    header = [Column("bucket", _("Time to use the code")), Column("codes", _("Codes"))]
    rows: list[list[Any]] = [[bucket, counts.get(bucket, 0)] for bucket in buckets]
    trace = _bar(_("Codes"), buckets, [row[1] for row in rows], marker={"color": PALETTE[0]})
    layout = _layout(xaxis={"type": "category"}, showlegend=False)
    return ChartData(header, rows, {"data": [trace], "layout": layout})


# --- Uploads and keys ------------------------------------------------------------------------


def uploads_per_day(scope: Scope) -> ChartData:
    series = selectors.daily_totals(
        scope, [device_metrics.UPLOADS, device_metrics.UPLOADS_WITH_KEYS, key_metrics.KEYS_STORED]
    )
    header, rows = _daily_table(
        scope,
        [
            ("uploads", _("Uploads"), series[device_metrics.UPLOADS]),
            ("uploads_with_keys", _("Uploads with keys"), series[device_metrics.UPLOADS_WITH_KEYS]),
            ("keys", _("Keys received"), series[key_metrics.KEYS_STORED]),
        ],
    )
    x = [row[0] for row in rows]
    data = [
        _bar(header[1].label, x, [row[1] for row in rows], marker={"color": PALETTE[0]}),
        _bar(header[2].label, x, [row[2] for row in rows], marker={"color": PALETTE[6]}),
        _line(header[3].label, x, [row[3] for row in rows], yaxis="y2", line={"color": PALETTE[1]}),
    ]
    layout = _time_layout(
        barmode="group",
        yaxis={"title": {"text": _("Uploads")}},
        yaxis2=_right_axis(_("Keys")),
        margin={"r": 56},
    )
    return ChartData(header, rows, {"data": data, "layout": layout})


def keys_per_upload(scope: Scope) -> ChartData:
    counts = selectors.bucket_totals(scope, device_metrics.KEYS_PER_UPLOAD)
    largest = max([30, *(int(bucket) for bucket in counts if bucket.isdigit())])
    buckets = [str(n) for n in range(largest + 1)]
    header = [Column("keys", _("Keys in the upload")), Column("uploads", _("Uploads"))]
    rows: list[list[Any]] = [[int(bucket), counts.get(bucket, 0)] for bucket in buckets]
    trace = _bar(
        _("Uploads"),
        [row[0] for row in rows],
        [row[1] for row in rows],
        marker={"color": PALETTE[2]},
    )
    layout = _layout(
        xaxis={"title": {"text": _("Keys in the upload")}, "dtick": 2}, showlegend=False
    )
    return ChartData(header, rows, {"data": [trace], "layout": layout})


def publication_per_day(scope: Scope) -> ChartData:
    keys = selectors.daily_totals(scope, [key_metrics.KEYS_PUBLISHED])
    national = selectors.daily_totals(scope, [key_metrics.BATCHES_PUBLISHED], national=True)
    header, rows = _daily_table(
        scope,
        [
            ("keys_published", _("Keys published"), keys[key_metrics.KEYS_PUBLISHED]),
            ("batches", _("Batch files (whole country)"), national[key_metrics.BATCHES_PUBLISHED]),
        ],
    )
    x = [row[0] for row in rows]
    data = [
        _bar(header[1].label, x, [row[1] for row in rows], marker={"color": PALETTE[0]}),
        _line(header[2].label, x, [row[2] for row in rows], yaxis="y2", line={"color": PALETTE[1]}),
    ]
    layout = _time_layout(
        yaxis={"title": {"text": _("Keys")}},
        yaxis2=_right_axis(_("Batches")),
        margin={"r": 56},
    )
    return ChartData(header, rows, {"data": data, "layout": layout})


# --- Device API ------------------------------------------------------------------------------


def failed_checks_per_day(scope: Scope) -> ChartData:
    series = selectors.daily_bucket_totals(scope, [device_metrics.FAILED_OTP_CHECKS], national=True)
    header, rows = _daily_table(
        scope,
        [
            (
                "check_otp",
                _("Code checks"),
                series[(device_metrics.FAILED_OTP_CHECKS, device_metrics.CHECK_OTP)],
            ),
            (
                "upload",
                _("Uploads"),
                series[(device_metrics.FAILED_OTP_CHECKS, device_metrics.UPLOAD)],
            ),
        ],
    )
    layout = _time_layout(barmode="stack")
    return ChartData(
        header, rows, {"data": _columns_as_traces(header, rows, _bar), "layout": layout}
    )


def requests_per_day(scope: Scope) -> ChartData:
    series = selectors.daily_totals(
        scope,
        [
            device_metrics.REAL_REQUESTS,
            device_metrics.DUMMY_REQUESTS,
            device_metrics.THROTTLED_REQUESTS,
        ],
        national=True,
    )
    header, rows = _daily_table(
        scope,
        [
            ("real", _("Real requests"), series[device_metrics.REAL_REQUESTS]),
            ("dummy", _("Dummy requests"), series[device_metrics.DUMMY_REQUESTS]),
            (
                "throttled",
                _("Refused: too many requests"),
                series[device_metrics.THROTTLED_REQUESTS],
            ),
        ],
    )
    return ChartData(
        header, rows, {"data": _columns_as_traces(header, rows, _line), "layout": _time_layout()}
    )


# --- The apps' operational info ----------------------------------------------------------------


def _app_info_columns() -> list[tuple[str, str, str]]:
    return [
        ("app_reports", app_metrics.APP_REPORTS, _("Apps reporting")),
        ("exposure_notifications", app_metrics.EXPOSURE_NOTIFICATIONS, _("Exposure notifications")),
        (
            "exposure_permission_on",
            app_metrics.EXPOSURE_PERMISSION_ON,
            _("Exposure notifications on"),
        ),
        ("bluetooth_on", app_metrics.BLUETOOTH_ON, _("Bluetooth on")),
        (
            "notification_permission_on",
            app_metrics.NOTIFICATION_PERMISSION_ON,
            _("Notifications allowed"),
        ),
    ]


def app_info_per_day(scope: Scope) -> ChartData:
    series = selectors.daily_totals(scope, app_metrics.OPERATIONAL_INFO_METRICS)
    header, rows = _daily_table(
        scope, [(key, label, series[metric]) for key, metric, label in _app_info_columns()]
    )
    x = [row[0] for row in rows]
    data = [
        _line(column.label, x, [row[i] for row in rows])
        for i, column in enumerate(header)
        if i and column.key != "exposure_notifications"
    ]
    # Far fewer than the reports: on their own axis, or they would lie flat on zero.
    notified = [column.key for column in header].index("exposure_notifications")
    data.append(
        _line(
            header[notified].label,
            x,
            [row[notified] for row in rows],
            yaxis="y2",
            line={"dash": "dot", "color": PALETTE[3]},
        )
    )
    layout = _time_layout(
        yaxis={"title": {"text": _("Apps")}},
        yaxis2=_right_axis(_("Exposure notifications")),
        margin={"r": 56},
    )
    return ChartData(header, rows, {"data": data, "layout": layout})


def _region_table(
    scope: Scope,
    columns: list[tuple[str, str, str]],
    sums: dict[str, tuple[str, ...]] | None = None,
) -> tuple[list[Column], list[list[Any]]]:
    """A row per region (all of them, by name), a column per (key, metric, label); `sums`
    maps a key to several metrics added together."""
    sums = sums or {}
    wanted = {metric for _k, metric, _l in columns} | {m for group in sums.values() for m in group}
    totals = selectors.region_totals(scope, wanted)
    regions = list(Region.objects.order_by("name").values_list("pk", "code", "name"))
    header = [Column("region_code", _("Code")), Column("region", _("Region"))]
    header += [Column(key, label) for key, _m, label in columns]
    rows: list[list[Any]] = []
    for pk, code, name in regions:
        values = totals.get(pk, {})
        row: list[Any] = [code, name]
        for key, metric, _label in columns:
            group = sums.get(key, (metric,))
            row.append(sum(values.get(m, 0) for m in group))
        rows.append(row)
    return header, rows


def _region_layout(regions: int, **extra: Any) -> dict[str, Any]:
    return _layout(
        barmode="group",
        height=max(360, 34 * regions + 120),
        yaxis={"autorange": "reversed", "type": "category"},
        margin={"l": 200, "t": 40},
        hovermode="y unified",
        # Above a tall chart, where it can be seen without scrolling.
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
        **extra,
    )


def app_info_by_region(scope: Scope) -> ChartData:
    """Counts in the table. Regions differ so much in size that the chart compares rates:
    the share of apps with each permission on, and notifications per 1,000 apps reporting."""
    header, rows = _region_table(scope, _app_info_columns())
    keys = [column.key for column in header]
    reports = keys.index("app_reports")
    notified = keys.index("exposure_notifications")
    names = [row[1] for row in rows]

    def rate(row: list[Any], i: int, per: int) -> float:
        return round(per * row[i] / row[reports], 2) if row[reports] else 0

    data = [
        _bar(column.label, [rate(row, i, 100) for row in rows], names, orientation="h")
        for i, column in enumerate(header)
        if i > reports and i != notified
    ]
    data.append(
        _bar(
            header[notified].label,
            [rate(row, notified, 1000) for row in rows],
            names,
            orientation="h",
            xaxis="x2",
            marker={"color": PALETTE[3]},
        )
    )
    layout = _region_layout(
        len(rows),
        xaxis={
            "title": {"text": _("% of the apps reporting")},
            "ticksuffix": " %",
            "domain": [0, 0.64],
        },
        xaxis2={
            "title": {"text": _("Notifications per 1,000 apps")},
            "domain": [0.7, 1],
            "anchor": "y",
            "gridcolor": GRID,
            "rangemode": "tozero",
        },
    )
    return ChartData(header, rows, {"data": data, "layout": layout}, dimensions=2, regions=True)


def regions_compared(scope: Scope) -> ChartData:
    header, rows = _region_table(
        scope,
        [
            ("codes", code_metrics.OTP_ISSUED, _("Codes issued or authorized")),
            ("redeemed", code_metrics.OTP_REDEEMED, _("Codes used")),
            ("uploads", device_metrics.UPLOADS, _("Uploads")),
            ("keys", key_metrics.KEYS_STORED, _("Keys received")),
        ],
        sums={"codes": tuple(code_metrics.GRANTED)},
    )
    names = [row[1] for row in rows]
    # Keys (about 13 an upload) stay in the table: on this axis they would dwarf the rest.
    data = [
        _bar(column.label, [row[i] for row in rows], names, orientation="h")
        for i, column in enumerate(header)
        if i >= 2 and column.key != "keys"
    ]
    return ChartData(
        header,
        rows,
        {"data": data, "layout": _region_layout(len(rows))},
        dimensions=2,
        regions=True,
    )


# --- Staff -------------------------------------------------------------------------------------


def codes_per_operator(scope: Scope) -> ChartData:
    """Who issued or authorized how many codes on which day, in one region."""
    issued = selectors.operator_daily_totals(scope, [code_metrics.OTP_ISSUED])
    authorized = selectors.operator_daily_totals(scope, [code_metrics.OTP_AUTHORIZED])
    operator_ids = sorted({op for _d, op in issued} | {op for _d, op in authorized})
    people = User.objects.in_bulk([op for op in operator_ids if op])
    names = {
        op: (
            str(_("Health information system (API key)"))
            if selectors.is_machine_issuer(op)
            else (
                people[op].display_name
                if op in people
                else _("Former operator #%(id)s") % {"id": op}
            )
        )
        for op in operator_ids
    }
    usernames = {op: people[op].username if op in people else "" for op in operator_ids}
    header = [
        Column("day", _("Day")),
        Column("operator", _("Operator")),
        Column("username", _("Username")),
        Column("issued", _("Issued")),
        Column("authorized", _("Authorized from the app")),
        Column("total", _("Total")),
    ]
    rows: list[list[Any]] = []
    for day in scope.days:
        for op in operator_ids:
            given = issued.get((day, op), 0)
            typed = authorized.get((day, op), 0)
            if given or typed:
                rows.append(
                    [day.isoformat(), names[op], usernames[op], given, typed, given + typed]
                )
    data = []
    for op in sorted(operator_ids, key=lambda op: names[op].lower()):
        mine = [row for row in rows if row[1] == names[op] and row[2] == usernames[op]]
        data.append(_bar(names[op], [row[0] for row in mine], [row[5] for row in mine]))
    layout = _time_layout(barmode="stack")
    return ChartData(
        header, rows, {"data": data, "layout": layout}, dimensions=3, totals=("total",)
    )


CHARTS: list[Chart] = [
    Chart(
        "codes",
        gettext_lazy("Codes per day"),
        gettext_lazy(
            "Codes issued by staff, authorized from the app, used for an upload, expired unused"
            " and revoked."
        ),
        Audience.EVERYONE,
        codes_per_day,
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
        code_funnel,
    ),
    Chart(
        "time-to-redeem",
        gettext_lazy("Time from code to upload"),
        gettext_lazy("How long patients took to use their code."),
        Audience.EVERYONE,
        time_to_redeem,
    ),
    Chart(
        "uploads",
        gettext_lazy("Uploads and keys per day"),
        gettext_lazy("Uploads accepted from the app and the keys they carried."),
        Audience.EVERYONE,
        uploads_per_day,
    ),
    Chart(
        "keys-per-upload",
        gettext_lazy("Keys per upload"),
        gettext_lazy("How many keys each upload carried (the app keeps 14 days of keys)."),
        Audience.EVERYONE,
        keys_per_upload,
    ),
    Chart(
        "publication",
        gettext_lazy("Publication per day"),
        gettext_lazy("Keys published to phones, and batch files added to the index."),
        Audience.EVERYONE,
        publication_per_day,
    ),
    Chart(
        "app-info",
        gettext_lazy("App operational info per day"),
        gettext_lazy(
            "Apps that reported, exposure notifications they had shown, and apps with each"
            " permission on."
        ),
        Audience.EVERYONE,
        app_info_per_day,
    ),
    Chart(
        "failed-checks",
        gettext_lazy("Refused codes per day (whole country)"),
        gettext_lazy("Code checks and uploads refused for an unknown, used or expired code."),
        Audience.EVERYONE,
        failed_checks_per_day,
    ),
    Chart(
        "requests",
        gettext_lazy("Real and dummy requests (whole country)"),
        gettext_lazy(
            "Requests from the app: real ones, cover traffic, and those refused for coming too"
            " fast."
        ),
        Audience.ADMINISTRATORS,
        requests_per_day,
    ),
    Chart(
        "regions",
        gettext_lazy("Regions compared"),
        gettext_lazy("Codes, uploads and keys of each region over the period."),
        Audience.NATIONAL,
        regions_compared,
        wide=True,
    ),
    Chart(
        "app-info-regions",
        gettext_lazy("App operational info by region"),
        gettext_lazy("Apps reporting, exposure notifications and permissions, by region."),
        Audience.NATIONAL,
        app_info_by_region,
        wide=True,
    ),
    Chart(
        "operators",
        gettext_lazy("Codes per operator"),
        gettext_lazy("Who issued or authorized how many codes on which day."),
        Audience.REGIONAL,
        codes_per_operator,
        wide=True,
    ),
]
CHARTS_BY_SLUG = {chart.slug: chart for chart in CHARTS}
