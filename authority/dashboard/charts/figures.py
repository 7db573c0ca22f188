"""The dashboard's Plotly figures, drawn from the charts' tables with plotly's figure API.

SVG trace types only (bar, scatter, funnel): WebGL traces would need 'unsafe-eval' in the
Content-Security-Policy. The house style is one Plotly template, built and validated once;
each figure's layout says only what differs. dashboard.js draws `data` and `layout`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from plotly.utils import PlotlyJSONEncoder

from authority.dashboard.charts.tables import Table, operator_series

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
    return go.Layout(
        template=TEMPLATE,
        separators=",." if get_language() == "it" else ".,",
        height=HEIGHT,
        **extra,
    )


def _time_layout(**extra: Any) -> go.Layout:
    xaxis = {"type": "date", **extra.pop("xaxis", {})}
    return _layout(hovermode="x unified", xaxis=xaxis, **extra)


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


def _lines(table: Table) -> list[Any]:
    x = table.column("day")
    return [
        go.Scatter(name=column.label, x=x, y=table.column(column.key), mode="lines")
        for column in table.columns[table.dimensions :]
    ]


def _bars(table: Table) -> list[Any]:
    x = table.column("day")
    return [
        go.Bar(name=column.label, x=x, y=table.column(column.key))
        for column in table.columns[table.dimensions :]
    ]


# --- Codes -----------------------------------------------------------------------------------


def codes_per_day(table: Table) -> Figure:
    return Figure(_lines(table), _time_layout())


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
    x = table.column("day")
    uploads, with_keys, keys = table.columns[1:]
    data = [
        go.Bar(name=uploads.label, x=x, y=table.column(uploads.key), marker={"color": PALETTE[0]}),
        go.Bar(
            name=with_keys.label, x=x, y=table.column(with_keys.key), marker={"color": PALETTE[6]}
        ),
        go.Scatter(
            name=keys.label,
            x=x,
            y=table.column(keys.key),
            mode="lines",
            yaxis="y2",
            line={"color": PALETTE[1]},
        ),
    ]
    layout = _time_layout(
        barmode="group",
        yaxis={"title": {"text": _("Uploads")}},
        yaxis2=_right_axis(_("Keys")),
        margin={"r": 56},
    )
    return Figure(data, layout)


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
    x = table.column("day")
    keys, batches = table.columns[1:]
    data = [
        go.Bar(name=keys.label, x=x, y=table.column(keys.key), marker={"color": PALETTE[0]}),
        go.Scatter(
            name=batches.label,
            x=x,
            y=table.column(batches.key),
            mode="lines",
            yaxis="y2",
            line={"color": PALETTE[1]},
        ),
    ]
    layout = _time_layout(
        yaxis={"title": {"text": _("Keys")}},
        yaxis2=_right_axis(_("Batches")),
        margin={"r": 56},
    )
    return Figure(data, layout)


# --- Device API ------------------------------------------------------------------------------


def failed_checks_per_day(table: Table) -> Figure:
    return Figure(_bars(table), _time_layout(barmode="stack"))


def requests_per_day(table: Table) -> Figure:
    return Figure(_lines(table), _time_layout())


# --- The apps' operational info ----------------------------------------------------------------


def app_info_per_day(table: Table) -> Figure:
    x = table.column("day")
    data: list[Any] = [
        go.Scatter(name=column.label, x=x, y=table.column(column.key), mode="lines")
        for column in table.columns[1:]
        if column.key != "exposure_notifications"
    ]
    # Far fewer than the reports: on their own axis, or they would lie flat on zero.
    notified = next(c for c in table.columns if c.key == "exposure_notifications")
    data.append(
        go.Scatter(
            name=notified.label,
            x=x,
            y=table.column(notified.key),
            mode="lines",
            yaxis="y2",
            line={"dash": "dot", "color": PALETTE[3]},
        )
    )
    layout = _time_layout(
        yaxis={"title": {"text": _("Apps")}},
        yaxis2=_right_axis(_("Exposure notifications")),
        margin={"r": 56},
    )
    return Figure(data, layout)


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
    data = [go.Bar(name=name, x=days, y=codes) for name, days, codes in operator_series(table)]
    return Figure(data, _time_layout(barmode="stack"))
