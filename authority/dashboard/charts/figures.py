"""The dashboard's Plotly figures, drawn from the charts' tables with plotly's figure API.

SVG trace types only (bar, scatter, funnel): WebGL traces would need 'unsafe-eval' in the
Content-Security-Policy, and the vendored plotly.js is the partial bundle that has these
(static/vendor/SOURCES.md). The house style is one Plotly template, built and validated once;
each figure's layout says only what differs. dashboard.js draws `data` and `layout`.

Today's counts are the day so far: on a day axis today is shaded and labelled, its bars
lighter and the last stretch of each line dotted, so that a morning's figures never read as
a collapse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
from django.template.defaultfilters import floatformat
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from plotly.utils import PlotlyJSONEncoder

from authority.dashboard import sampling
from authority.dashboard.charts.tables import Table, operator_series
from authority.statistics.services import local_day

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
HEIGHT = 360
TODAY_SHADE = "#eef1f6"
TODAY_OPACITY = 0.45  # today's bars: the day is not over

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": "Titillium Web, Geneva, Tahoma, sans-serif", "size": 13},
        colorway=PALETTE,
        margin={"l": 56, "r": 24, "t": 16, "b": 40},
        legend={"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        # plotly.js draws a grid only where it is asked for one in the figure or the template,
        # not for a grid colour coming from the template alone.
        xaxis={"gridcolor": GRID, "showgrid": True, "automargin": True},
        yaxis={"gridcolor": GRID, "showgrid": True, "rangemode": "tozero", "automargin": True},
    )
)


@dataclass(frozen=True)
class Figure:
    """A chart's traces and layout: plotly objects, each validated once as it is built.

    go.Figure(data=traces) would validate every trace a second time and copy it (about twice
    the cost, 10 ms for a chart of five two-year series); a figure here is only drawn by
    plotly.js, so the validated parts are serialised as they are. go.Figure(data=figure.data,
    layout=figure.layout) makes a full figure of it, e.g. to look at one in a notebook.
    """

    data: list[Any]  # plotly.graph_objects traces (Scatter, Bar, Funnel)
    layout: go.Layout

    def to_plotly_json(self) -> dict[str, Any]:
        return {
            "data": [trace.to_plotly_json() for trace in self.data],
            "layout": self.layout.to_plotly_json(),
        }


def as_json(figure: Figure) -> dict[str, Any]:
    """The figure's `data` and `layout` as plain dicts and lists (what is cached)."""
    return figure.to_plotly_json()


def encode(document: Any) -> str:
    """JSON through plotly's own encoder (NaN and infinities as null, plotly's types)."""
    return json.dumps(document, cls=PlotlyJSONEncoder)


def _layout(**extra: Any) -> go.Layout:
    extra.setdefault("height", HEIGHT)
    return go.Layout(
        template=TEMPLATE, separators=",." if get_language() == "it" else ".,", **extra
    )


def today_iso() -> str:
    return local_day().isoformat()


def _time_layout(
    *, today: str | None = None, days: list[str] | None = None, **extra: Any
) -> go.Layout:
    """A day axis; when the days drawn end today, today is shaded and labelled as partial."""
    # The day, written out, heads the unified hover label ("martedì 10 marzo 2026" in
    # Italian: dashboard.js gives plotly.js the language's names of months and days).
    xaxis = {"type": "date", "hoverformat": "%A %-d %B %Y", **extra.pop("xaxis", {})}
    if days and len(set(days)) <= 7:
        # A few days: plotly.js would otherwise tick every few hours of a day axis.
        xaxis["dtick"] = 86_400_000
    shapes = list(extra.pop("shapes", []))
    annotations = list(extra.pop("annotations", []))
    if today is not None and days and today in days:
        start = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
        shapes[:0] = [
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": f"{start} 12:00",
                "x1": f"{today} 12:00",
                "y0": 0,
                "y1": 1,
                "fillcolor": TODAY_SHADE,
                "line": {"width": 0},
                "layer": "below",
            }
        ]
        annotations[:0] = [
            {
                "text": _("today, so far"),
                "xref": "x",
                "yref": "paper",
                "x": f"{today} 12:00",
                "y": 1,
                "xanchor": "right",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11, "color": PALETTE[4]},
            }
        ]
    if shapes:
        extra["shapes"] = shapes
    if annotations:
        extra["annotations"] = annotations
    return _layout(hovermode="x unified", xaxis=xaxis, **extra)


def _line(
    *, name: str, x: list[str], y: list[Any], colour: str, today: str | None, **extra: Any
) -> list[Any]:
    """A daily line; when it ends today, its last stretch is a separate dotted trace (one
    legend entry for both), so that today's partial count does not look like a fall."""
    line = {"color": colour, **extra.pop("line", {})}
    if today is None or len(x) < 2 or x[-1] != today:
        return [go.Scatter(name=name, x=x, y=y, mode="lines", line=line, legendgroup=name, **extra)]
    return [
        go.Scatter(
            name=name, x=x[:-1], y=y[:-1], mode="lines", line=line, legendgroup=name, **extra
        ),
        go.Scatter(
            name=f"{name} ({_('today, so far')})",
            x=x[-2:],
            y=y[-2:],
            mode="lines+markers",
            line={**line, "dash": "dot"},
            marker={"size": [0, 7], "color": colour},
            legendgroup=name,
            showlegend=False,
            # Yesterday is already in the hover label, from the complete line.
            hoverinfo=["none", "all"],
            **extra,
        ),
    ]


def daily_bar(*, name: str, x: list[str], y: list[Any], today: str | None, **extra: Any) -> Any:
    """Daily bars; today's, partial, lighter."""
    marker = dict(extra.pop("marker", {}))
    if today is not None and today in x:
        marker["opacity"] = [TODAY_OPACITY if day == today else 1 for day in x]
    return go.Bar(name=name, x=x, y=y, marker=marker, **extra)


def _right_axis(title: str) -> dict[str, Any]:
    """A second y axis on the right, for a line drawn over bars of another unit."""
    return {
        "title": {"text": title},
        "overlaying": "y",
        "side": "right",
        "tickmode": "auto",
        "tickformat": ",d",
        "rangemode": "tozero",
        "showgrid": False,
        "automargin": False,  # the figure leaves it room (margin r)
    }


def _lines(table: Table, today: str) -> list[Any]:
    x = table.column("day")
    return [
        trace
        for position, column in enumerate(table.counts())
        for trace in _line(
            name=column.label,
            x=x,
            y=table.column(column.key),
            colour=PALETTE[position % len(PALETTE)],
            today=today,
        )
    ]


def _bars(table: Table, today: str) -> list[Any]:
    x = table.column("day")
    return [
        daily_bar(name=column.label, x=x, y=table.column(column.key), today=today)
        for column in table.counts()
    ]


def day_figure(table: Table, data: list[Any], today: str, **layout: Any) -> Figure:
    return Figure(data, _time_layout(today=today, days=table.column("day"), **layout))


# --- Codes -----------------------------------------------------------------------------------


def codes_per_day(table: Table) -> Figure:
    today = today_iso()
    return day_figure(table, _lines(table, today), today)


def code_funnel(table: Table) -> Figure:
    labels = table.column("label")
    values = table.column("value")
    # Keys are not codes: an upload carries up to 14. On the codes' scale their stage would
    # dwarf the others, so it gets its own axis and the width of the uploads that carried them.
    widest = max(values[:3]) or 1
    keys_width = values[2] or widest * 0.3
    half = widest / 2 * 1.05
    scale = (values[3] or 1) / keys_width
    codes = go.Funnel(
        y=labels[:3],
        x=values[:3],
        texttemplate="%{value:,d}<br>%{percentInitial:.0%}",
        marker={"color": PALETTE[:3]},
        connector={"line": {"color": GRID}},
        hoverinfo="y+x",
    )
    keys = go.Funnel(
        y=labels[3:],
        x=values[3:],
        xaxis="x2",
        texttemplate="%{value:,d}",
        marker={"color": [PALETTE[6]]},
        hoverinfo="y+x",
    )
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
    return Figure([codes, keys], layout)


def time_to_redeem(table: Table) -> Figure:
    bars = go.Bar(
        name=_("Codes"),
        x=table.column("bucket"),
        y=table.column("codes"),
        marker={"color": PALETTE[0]},
    )
    return Figure([bars], _layout(xaxis={"type": "category"}, showlegend=False))


# --- Uploads and keys ------------------------------------------------------------------------


def uploads_per_day(table: Table) -> Figure:
    today = today_iso()
    x = table.column("day")
    uploads, with_keys, keys = table.columns[1:]
    data = [
        daily_bar(
            name=uploads.label,
            x=x,
            y=table.column(uploads.key),
            marker={"color": PALETTE[0]},
            today=today,
        ),
        daily_bar(
            name=with_keys.label,
            x=x,
            y=table.column(with_keys.key),
            marker={"color": PALETTE[6]},
            today=today,
        ),
        *_line(
            name=keys.label,
            x=x,
            y=table.column(keys.key),
            colour=PALETTE[1],
            today=today,
            yaxis="y2",
        ),
    ]
    return day_figure(
        table,
        data,
        today,
        barmode="group",
        yaxis={"title": {"text": _("Uploads")}},
        yaxis2=_right_axis(_("Keys")),
        margin={"r": 56},
    )


def keys_per_upload(table: Table) -> Figure:
    bars = go.Bar(
        name=_("Uploads"),
        x=table.column("keys"),
        y=table.column("uploads"),
        marker={"color": PALETTE[2]},
    )
    layout = _layout(
        xaxis={"title": {"text": _("Keys in the upload")}, "dtick": 2}, showlegend=False
    )
    return Figure([bars], layout)


def publication_per_day(table: Table) -> Figure:
    today = today_iso()
    x = table.column("day")
    keys, batches = table.columns[1:]
    data = [
        daily_bar(
            name=keys.label,
            x=x,
            y=table.column(keys.key),
            marker={"color": PALETTE[0]},
            today=today,
        ),
        *_line(
            name=batches.label,
            x=x,
            y=table.column(batches.key),
            colour=PALETTE[1],
            today=today,
            yaxis="y2",
        ),
    ]
    return day_figure(
        table,
        data,
        today,
        yaxis={"title": {"text": _("Keys")}},
        yaxis2=_right_axis(_("Batches")),
        margin={"r": 56},
    )


# --- Device API ------------------------------------------------------------------------------


def failed_checks_per_day(table: Table) -> Figure:
    today = today_iso()
    return day_figure(table, _bars(table, today), today, barmode="stack")


def requests_per_day(table: Table) -> Figure:
    """The requests counted and, in a strip below them on its own axis, the cover traffic the
    apps' settings ask of each app (one line, or one per platform when their settings
    differ): another unit, which a second axis over the counts would only tangle with them."""
    today = today_iso()
    x = table.column("day")
    data = _lines(table, today)
    android, ios = (table.column(f"dummy_per_app_{p}") for p in sampling.PLATFORMS)
    if android == ios:
        series = [(_("Dummy requests per app and day, from the settings"), android, "solid")]
    else:
        series = [
            (_("Dummy requests per app and day, Android settings"), android, "solid"),
            (_("Dummy requests per app and day, iOS settings"), ios, "dash"),
        ]
    known = [value for _name, values, _dash in series for value in values if value is not None]
    if not known:
        return day_figure(table, data, today)
    data += [
        go.Scatter(
            name=name,
            x=x,
            y=values,
            mode="lines",
            line={"color": PALETTE[1], "dash": dash, "shape": "hv", "width": 1.5},
            yaxis="y2",
            hovertemplate=f"{name}: %{{y:.3~f}}<extra></extra>",
            connectgaps=False,
        )
        for name, values, dash in series
    ]
    strip = {
        "domain": [0, 0.2],
        "title": {"text": _("Per app and day"), "font": {"size": 11}},
        "tickformat": ".2~f",
        "nticks": 3,
        "range": [0, max(known) * 1.3],
        "fixedrange": True,
        "gridcolor": GRID,
    }
    return day_figure(
        table,
        data,
        today,
        height=HEIGHT + 60,
        xaxis={"anchor": "y2"},
        yaxis={"domain": [0.3, 1]},
        yaxis2=strip,
    )


# --- The apps' operational info ----------------------------------------------------------------


def app_info_per_day(table: Table) -> Figure:
    today = today_iso()
    x = table.column("day")
    others = [c for c in table.counts() if c.key != "exposure_notifications"]
    data: list[Any] = [
        trace
        for position, column in enumerate(others)
        for trace in _line(
            name=column.label,
            x=x,
            y=table.column(column.key),
            # PALETTE[3] is the notifications'.
            colour=[c for c in PALETTE if c != PALETTE[3]][position],
            today=today,
        )
    ]
    # Far fewer than the reports: on their own axis, or they would lie flat on zero.
    notified = next(c for c in table.columns if c.key == "exposure_notifications")
    data += _line(
        name=notified.label,
        x=x,
        y=table.column(notified.key),
        colour=PALETTE[3],
        today=today,
        yaxis="y2",
        line={"dash": "dot"},
    )
    estimate, changes = _estimate(table)
    data += estimate
    return day_figure(
        table,
        data,
        today,
        yaxis={"title": {"text": _("Apps")}},
        yaxis2=_right_axis(_("Exposure notifications")),
        margin={"r": 56},
        # Seven lines in the legend: on a phone it takes half the figure.
        height=HEIGHT + 60 if estimate else HEIGHT,
        shapes=[_day_mark(day) for day in changes],
        annotations=[_day_label(day, _("sampling rate changed"), x) for day in changes],
    )


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{floatformat(rate * 100, '-1')} %"


def _rates_text(rates: tuple[float | None, ...]) -> str:
    """The rates an estimate used, in words: "rate used: 60 % (100 % with an exposure)".
    `rates`: Android's without and with an exposure, then iOS'."""
    android, ios = rates[:2], rates[2:]
    if android == ios:
        return _("rate used: %(without)s (%(with)s with an exposure)") % {
            "without": _percent(android[0]),
            "with": _percent(android[1]),
        }
    return _(
        "rates used: Android %(android)s (%(android_with)s with an exposure),"
        " iOS %(ios)s (%(ios_with)s with an exposure)"
    ) % {
        "android": _percent(android[0]),
        "android_with": _percent(android[1]),
        "ios": _percent(ios[0]),
        "ios_with": _percent(ios[1]),
    }


def _estimate_texts(records: list[dict[str, Any]]) -> list[str]:
    """Each day's hover text of the estimate: the rates it used, and why it is approximate.
    (Two years are 730 texts from a few distinct rates: each is written once.)"""
    written: dict[tuple[float | None, ...], str] = {}
    thousands = "." if get_language() == "it" else ","
    texts = []
    for record in records:
        notes = record["estimate_note"].split()
        if record["estimated_apps"] is None:
            texts.append(
                _("no estimate: a sampling rate was 0")
                if sampling.RATE_ZERO in notes
                else _("no estimate: no settings version yet")
            )
            continue
        rates = tuple(
            record[f"{platform}_{kind}_exposure_sampling_rate"]
            for platform in sampling.PLATFORMS
            for kind in ("without", "with")
        )
        if rates not in written:
            written[rates] = _rates_text(rates)
        lines = [written[rates]]
        if sampling.PLATFORMS_DIFFER in notes:
            low, high = record["estimated_apps_low"], record["estimated_apps_high"]
            lines.append(
                _("approximate: between %(low)s and %(high)s")
                % {
                    "low": f"{low:,}".replace(",", thousands),
                    "high": f"{high:,}".replace(",", thousands),
                }
            )
        if record["rate_changed"]:
            lines.append(_("approximate: the sampling rate changed that day"))
        if sampling.BUILD_OVERRIDE in notes:
            lines.append(_("approximate: a build override gives some builds other rates"))
        texts.append("<br>".join(lines))
    return texts


def _estimate(table: Table) -> tuple[list[Any], list[str]]:
    """The estimated apps (dashed, the reports' colour); where the platforms' rates differ, the
    range the reports could stand for as a band around it; circles on the days a rate changed
    or a build override applied; and the days a rate changed."""
    records = table.records()
    x = [record["day"] for record in records]
    y = [record["estimated_apps"] for record in records]
    name = str(next(c.label for c in table.columns if c.key == "estimated_apps"))
    if all(value is None for value in y):
        return [], []
    group: dict[str, Any] = {"legendgroup": "estimate", "showlegend": False, "hoverinfo": "skip"}
    traces: list[Any] = []
    if any(sampling.PLATFORMS_DIFFER in record["estimate_note"] for record in records):
        edge = {"color": PALETTE[0], "width": 0}
        traces += [
            go.Scatter(
                name=_("Estimate, lowest"),
                x=x,
                y=table.column("estimated_apps_low"),
                line=edge,
                **group,
            ),
            go.Scatter(
                name=_("Estimate, highest"),
                x=x,
                y=table.column("estimated_apps_high"),
                line=edge,
                fill="tonexty",
                fillcolor="rgba(0, 102, 204, 0.15)",
                **group,
            ),
        ]
    traces.append(
        go.Scatter(
            name=name,
            x=x,
            y=y,
            mode="lines",
            line={"color": PALETTE[0], "dash": "dash", "width": 2},
            legendgroup="estimate",
            customdata=_estimate_texts(records),
            hovertemplate=f"{name}: %{{y:,d}}<br><i>%{{customdata}}</i><extra></extra>",
            connectgaps=False,
        )
    )
    circled = [
        (record["day"], record["estimated_apps"])
        for record in records
        if record["estimated_apps"] is not None
        and {sampling.RATE_CHANGED, sampling.BUILD_OVERRIDE} & set(record["estimate_note"].split())
    ]
    if circled:
        traces.append(
            go.Scatter(
                name=_("Estimate approximate that day"),
                x=[day for day, _value in circled],
                y=[value for _day, value in circled],
                mode="markers",
                marker={"symbol": "circle-open", "size": 8, "color": PALETTE[0]},
                **group,
            )
        )
    changes = [record["day"] for record in records if record["rate_changed"]]
    return traces, changes


def _day_mark(day: str) -> dict[str, Any]:
    """A thin vertical line across the plot on `day`."""
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": day,
        "x1": day,
        "y0": 0,
        "y1": 1,
        "line": {"color": PALETTE[4], "width": 1, "dash": "dot"},
        "layer": "below",
    }


def _day_label(day: str, text: str, days: list[str]) -> dict[str, Any]:
    """A label above the plot at `day`, on the side where the plot has room for it."""
    late = days.index(day) > len(days) / 2 if day in days else False
    return {
        "text": text,
        "xref": "x",
        "yref": "paper",
        "x": day,
        "y": 1,
        "xanchor": "right" if late else "left",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 11, "color": PALETTE[4]},
    }


def _region_layout(regions: int, **extra: Any) -> go.Layout:
    return go.Layout(
        template=TEMPLATE,
        separators=",." if get_language() == "it" else ".,",
        barmode="group",
        height=max(HEIGHT, 34 * regions + 120),
        yaxis={"autorange": "reversed", "type": "category"},
        margin={"l": 200, "t": 40},
        hovermode="y unified",
        # Above a tall chart, where it can be seen without scrolling.
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
        **extra,
    )


def app_info_by_region(table: Table) -> Figure:
    """Regions differ so much in size that the chart compares rates: the share of apps with
    each permission on, and notifications per 1,000 apps reporting."""
    names = table.column("region")
    reports = table.column("app_reports")

    def rate(key: str, per: int) -> list[float]:
        return [
            round(per * value / whole, 2) if whole else 0
            for value, whole in zip(table.column(key), reports, strict=True)
        ]

    permissions = [
        c for c in table.columns[2:] if c.key not in ("app_reports", "exposure_notifications")
    ]
    data = [
        go.Bar(name=column.label, x=rate(column.key, 100), y=names, orientation="h")
        for column in permissions
    ]
    notified = next(c for c in table.columns if c.key == "exposure_notifications")
    data.append(
        go.Bar(
            name=notified.label,
            x=rate(notified.key, 1000),
            y=names,
            orientation="h",
            xaxis="x2",
            marker={"color": PALETTE[3]},
        )
    )
    layout = _region_layout(
        len(names),
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
            "automargin": False,
        },
    )
    return Figure(data, layout)


def regions_compared(table: Table) -> Figure:
    names = table.column("region")
    # Keys (about 13 an upload) stay in the table: on this axis they would dwarf the rest.
    data = [
        go.Bar(name=column.label, x=table.column(column.key), y=names, orientation="h")
        for column in table.columns[2:]
        if column.key != "keys"
    ]
    return Figure(data, _region_layout(len(names)))


# --- Staff -------------------------------------------------------------------------------------


def codes_per_operator(table: Table) -> Figure:
    today = today_iso()
    data = [
        daily_bar(name=name, x=days, y=codes, today=today)
        for name, days, codes in operator_series(table)
    ]
    days = sorted({day for _name, days, _codes in operator_series(table) for day in days})
    return Figure(data, _time_layout(today=today, days=days, barmode="stack"))
