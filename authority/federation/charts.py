"""The federation page's chart: keys exchanged with each country over a period, as a Plotly figure (a plain dict, SVG traces only: the CSP allows no WebGL)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from authority.federation.selectors import ExchangeFigures

# The dashboard's first colours (authority/dashboard/charts.py): blue, orange, red.
SHARED, RECEIVED, REFUSED = "#0066cc", "#e67e00", "#cc334d"
GRID = "#e6e9f2"


def exchange_by_country(figures: ExchangeFigures) -> dict[str, Any]:
    """{"empty": bool, "figure": {...}, "rows": [...]}: what static/js/federation.js draws."""
    countries = [row.country for row in figures.countries]
    traces = [
        (_("Shared with"), SHARED, [row.shared for row in figures.countries]),
        (_("Received from"), RECEIVED, [row.received for row in figures.countries]),
        (_("Refused (did not verify)"), REFUSED, [row.refused for row in figures.countries]),
    ]
    figure = {
        "data": [
            {
                "type": "bar",
                "name": name,
                "x": countries,
                "y": values,
                "marker": {"color": colour},
                "hovertemplate": "%{x}: %{y}<extra>" + name + "</extra>",
            }
            for name, colour, values in traces
        ],
        "layout": {
            "barmode": "group",
            "margin": {"l": 48, "r": 16, "t": 16, "b": 48},
            "legend": {"orientation": "h", "y": -0.2},
            "xaxis": {"type": "category", "title": {"text": _("Country")}},
            "yaxis": {"title": {"text": _("Keys")}, "gridcolor": GRID, "rangemode": "tozero"},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
            "font": {"family": "Titillium Web, Geneva, Tahoma, sans-serif"},
        },
    }
    rows = [
        {
            "country": row.country,
            "shared": row.shared,
            "received": row.received,
            "invalid": row.invalid,
            "refused": row.refused,
        }
        for row in figures.countries
    ]
    empty = not any(value for _name, _colour, values in traces for value in values)
    return {"empty": empty, "figure": figure, "rows": rows}
