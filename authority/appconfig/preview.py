"""The risk preview: a few example exposures, scored by the version in force and by a draft (or
an earlier version), with whether the phone would warn, as a table and as a Plotly figure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from authority.appconfig import risk


@dataclass(frozen=True)
class Example:
    slug: str
    name: Promise
    description: Promise
    exposure: risk.Exposure


EXAMPLES: tuple[Example, ...] = (
    Example(
        "close-long",
        gettext_lazy("Close, 30 minutes"),
        gettext_lazy("30 minutes at 45 dB (about a metre), 2 days ago"),
        risk.Exposure(signal=((45, 30),), days_since=2),
    ),
    Example(
        "close-short",
        gettext_lazy("Close, 10 minutes"),
        gettext_lazy("10 minutes at 45 dB, yesterday"),
        risk.Exposure(signal=((45, 10),), days_since=1),
    ),
    Example(
        "quarter-hour",
        gettext_lazy("Nearby, 15 minutes"),
        gettext_lazy("15 minutes at 55 dB, 3 days ago"),
        risk.Exposure(signal=((55, 15),), days_since=3),
    ),
    Example(
        "room",
        gettext_lazy("Same room, 20 minutes"),
        gettext_lazy("20 minutes at 60 dB, 5 days ago"),
        risk.Exposure(signal=((60, 20),), days_since=5),
    ),
    Example(
        "mixed",
        gettext_lazy("Close, then farther"),
        gettext_lazy("10 minutes at 45 dB then 15 minutes at 70 dB, 4 days ago"),
        risk.Exposure(signal=((45, 10), (70, 15)), days_since=4),
    ),
    Example(
        "far",
        gettext_lazy("Far, 30 minutes"),
        gettext_lazy("30 minutes at 75 dB (several metres), today"),
        risk.Exposure(signal=((75, 30),), days_since=0),
    ),
    Example(
        "old",
        gettext_lazy("Close, two weeks ago"),
        gettext_lazy("30 minutes at 45 dB, 13 days ago"),
        risk.Exposure(signal=((45, 30),), days_since=13),
    ),
    Example(
        "high-transmission",
        gettext_lazy("Same room, high transmission risk"),
        gettext_lazy("20 minutes at 60 dB, 5 days ago, a key of transmission level 6"),
        risk.Exposure(signal=((60, 20),), days_since=5, transmission_risk=6),
    ),
)


@dataclass(frozen=True)
class Side:
    """One settings document in the comparison."""

    label: str
    document: dict[str, Any]

    @property
    def configuration(self) -> risk.ExposureConfiguration:
        return risk.ExposureConfiguration.from_settings(self.document["exposure_configuration"])

    @property
    def threshold(self) -> int:
        return risk.warning_threshold(
            self.configuration, int(self.document["exposure_info_minimum_risk_score"])
        )


@dataclass(frozen=True)
class Cell:
    score: int
    warns: bool
    label: str  # the side's


@dataclass(frozen=True)
class Row:
    example: Example
    cells: list[Cell]


def rows(platform: str, sides: list[Side]) -> list[Row]:
    result = []
    for example in EXAMPLES:
        cells = []
        for side in sides:
            scored = risk.score(side.configuration, example.exposure, platform)  # type: ignore[arg-type]
            warns = risk.phone_warns(scored, int(side.document["exposure_info_minimum_risk_score"]))
            cells.append(Cell(scored.reported, warns, side.label))
        result.append(Row(example, cells))
    return result


COLOURS = ("#5c6f82", "#0066cc")  # in force (grey-blue), the other (Bootstrap Italia's blue)


def figure(platform: str, sides: list[Side]) -> dict[str, Any]:
    """Grouped bars of the risk score per example and side (solid when the phone warns,
    hatched when it does not: not colour alone), and each side's warning threshold as a dashed
    line named in the legend. SVG traces only (the CSP forbids WebGL's eval)."""
    table = rows(platform, sides)
    names = [str(row.example.name) for row in table]
    data: list[dict[str, Any]] = []
    for index, side in enumerate(sides):
        colour = COLOURS[index % len(COLOURS)]
        cells = [row.cells[index] for row in table]
        data.append(
            {
                "type": "bar",
                "name": side.label,
                "legendgroup": side.label,
                "x": names,
                "y": [cell.score for cell in cells],
                "text": [str(cell.score) for cell in cells],
                "textposition": "outside",
                "textfont": {"size": 12},
                "cliponaxis": False,
                "customdata": [_("warns") if cell.warns else _("no warning") for cell in cells],
                "marker": {
                    "color": colour,
                    "line": {"color": colour, "width": 1},
                    "pattern": {
                        "shape": ["" if cell.warns else "/" for cell in cells],
                        "fgcolor": colour,
                        "bgcolor": "#ffffff",
                    },
                },
                "hovertemplate": "%{x}: %{y} · %{customdata}<extra>" + side.label + "</extra>",
            }
        )
    for index, side in enumerate(sides):
        colour = COLOURS[index % len(COLOURS)]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": _("%(side)s: warns from %(score)s")
                % {"side": side.label, "score": side.threshold},
                "legendgroup": side.label,
                "x": [names[0], names[-1]],
                "y": [side.threshold, side.threshold],
                "line": {"color": colour, "width": 2, "dash": "dash"},
                "hoverinfo": "skip",
            }
        )
    highest = max(
        [cell.score for row in table for cell in row.cells] + [s.threshold for s in sides]
    )
    return {
        "data": data,
        "layout": {
            "barmode": "group",
            "height": 460,
            "margin": {"t": 10, "r": 10, "b": 10, "l": 50},
            "legend": {"orientation": "h", "y": -0.35, "x": 0, "yanchor": "top"},
            "yaxis": {
                "title": {"text": _("Risk score")},
                "range": [0, highest * 1.2 + 1],
                "gridcolor": "#e6e9f2",
                "rangemode": "tozero",
            },
            "xaxis": {"tickangle": -30, "automargin": True},
            "font": {"family": "Titillium Web, Geneva, Tahoma, sans-serif", "color": "#17324d"},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
        },
    }
