"""A chart's table as it is downloaded (CSV, JSON): small counts withheld by the one rule of
authority/statistics/disclosure.py, exactly as the open data withholds them.

A figure of one day and one area (a region, abroad, the country) is withheld in a download
when the open data withholds it; a figure adding up several days or counters (a period, the
regions compared, the funnel) only when it adds up a withheld one. Breakdowns of a published
figure (histogram buckets, codes per operator) are groups of their own under that figure.
So no download, however its filter is set, and no set of downloads and open data files,
gives a withheld figure away. The charts drawn on the page stay exact: the dashboard is for
signed-in staff only.

Estimates worked out from counts (apps = reports / sampling rate) are withheld whenever a
count of their row they come from is: an estimate would give that count back. The apps'
settings (sampling rates, cover traffic) are public and never withheld. A day's breakdown of a
national counter by bucket (keys received by country) is a group under that day's total,
which /metrics publishes: protected as the regions of a day are, insiders included (a
country knows its own keys).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from authority.dashboard import selectors
from authority.dashboard.charts.tables import Column, Kind, Layout, Table
from authority.dashboard.counters import Counter
from authority.dashboard.selectors import Scope
from authority.statistics.disclosure import COUNTRY, DailyFigures, Total, protect_group

WITHHELD_IN_CSV = "withheld"


@dataclass
class ExportTable:
    """The downloaded table: withheld figures are None, and named in their row's
    `suppressed` list (DESIGN.md 3.6)."""

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

    def csv_rows(self) -> list[list[Any]]:
        """Withheld figures say so; a figure that does not exist (no estimate) is empty."""
        keys = [column.key for column in self.columns]
        body = [
            [
                WITHHELD_IN_CSV if key in withheld else ("" if value is None else value)
                for key, value in zip(keys, row, strict=True)
            ]
            for row, withheld in zip(self.rows, self.suppressed, strict=True)
        ]
        return [keys, *body]


def export_table(table: Table, scope: Scope, *, k: int) -> ExportTable:
    """The table as downloaded. Figures by day, area or period come from the same reading as
    the decision to withhold them (the counters of today keep changing); breakdowns are
    judged on their own figures."""
    figures = selectors.published_figures(scope.since, scope.until, _counters_of(table), k=k)
    cells = _CELLS[table.layout](table, scope, figures)
    cells.update(_breakdowns(table, figures))
    cells.update(_estimates(table, cells))
    kept = [i for i, column in enumerate(table.columns) if column.key not in table.totals]
    rows, suppressed = [], []
    for r, row in enumerate(table.rows):
        values = [cells.get((r, i), row[i]) for i in kept]
        rows.append(values)
        suppressed.append(
            [table.columns[i].key for i in kept if (r, i) in cells and cells[(r, i)] is None]
        )
    return ExportTable([table.columns[i] for i in kept], rows, suppressed, k)


Cells = dict[tuple[int, int], int | None]  # (row, column) -> figure, None when withheld


def _counters_of(table: Table) -> set[Counter]:
    broken_down = _broken_down(table)
    wanted = {
        counter
        for i, column in enumerate(table.columns)
        if i not in broken_down
        for counter in column.counters
    }
    wanted.update(counter for group in table.stages for counter in group)
    wanted.update(table.total)
    wanted.update(total for total, _keys in table.breakdowns)
    return wanted


def _broken_down(table: Table) -> set[int]:
    """Positions of the columns that are a breakdown's parts."""
    keys = [column.key for column in table.columns]
    return {keys.index(key) for _total, parts in table.breakdowns for key in parts}


def _area(scope: Scope) -> str | None:
    return scope.region.code if scope.region is not None else COUNTRY


def _count_columns(table: Table) -> list[int]:
    """The columns judged cell by cell (a breakdown's parts are judged as a group)."""
    broken_down = _broken_down(table)
    return [i for i, column in enumerate(table.columns) if column.counters and i not in broken_down]


def _breakdowns(table: Table, figures: DailyFigures) -> Cells:
    """Each day's parts of a national counter (keys by country...): a group whose total is
    that day's figure, known when it is published (/metrics), to be kept hidden when not."""
    keys = [column.key for column in table.columns]
    cells: Cells = {}
    for total, parts in table.breakdowns:
        positions = [keys.index(key) for key in parts]
        for r, row in enumerate(table.rows):
            values = [row[c] for c in positions]
            shown = figures.figure([(date.fromisoformat(row[0]), total)], COUNTRY)
            decision = protect_group(values, k=figures.k, total=_state(shown, sum(values)))
            cells.update({(r, positions[i]): None for i in decision.withheld})
    return cells


def _estimates(table: Table, cells: Cells) -> Cells:
    """An estimate worked out from a withheld count would give it back: withheld with it."""
    keys = [column.key for column in table.columns]
    withheld: Cells = {}
    for c, column in enumerate(table.columns):
        if column.kind is not Kind.ESTIMATE:
            continue
        sources = [keys.index(key) for key in column.sources]
        for r in range(len(table.rows)):
            if any((r, s) in cells and cells[(r, s)] is None for s in sources):
                withheld[(r, c)] = None
    return withheld


def _days(table: Table, scope: Scope, figures: DailyFigures) -> Cells:
    area = _area(scope)
    cells: Cells = {}
    for r, row in enumerate(table.rows):
        day = date.fromisoformat(row[0])
        for c in _count_columns(table):
            column = table.columns[c]
            # Counters kept for the country only are the country's whatever the region.
            where = COUNTRY if all(x.national_only for x in column.counters) else area
            cells[(r, c)] = figures.figure([(day, x) for x in column.counters], where)
    return cells


def _areas(table: Table, scope: Scope, figures: DailyFigures) -> Cells:
    days = scope.days
    return {
        (r, c): figures.figure(
            [(day, x) for day in days for x in table.columns[c].counters], row[0]
        )
        for r, row in enumerate(table.rows)
        for c in _count_columns(table)
    }


def _stages(table: Table, scope: Scope, figures: DailyFigures) -> Cells:
    area, days = _area(scope), scope.days
    value = len(table.columns) - 1
    return {
        (r, value): figures.figure([(day, x) for day in days for x in group], area)
        for r, group in enumerate(table.stages)
    }


def _buckets(table: Table, scope: Scope, figures: DailyFigures) -> Cells:
    """The buckets add up to the period's figure (e.g. uploads): published elsewhere, or
    withheld there and then not to be given back by the buckets' sum."""
    total = figures.figure([(day, x) for day in scope.days for x in table.total], _area(scope))
    last = len(table.columns) - 1
    values = [row[last] for row in table.rows]
    decision = protect_group(values, k=figures.k, total=_state(total, sum(values)), insiders=False)
    return {(r, last): None for r in decision.withheld}


def _operators(table: Table, scope: Scope, figures: DailyFigures) -> Cells:
    """Each day's people add up to the region's figure of that day, in each column."""
    area = _area(scope)
    days: dict[str, list[int]] = defaultdict(list)
    for r, row in enumerate(table.rows):
        days[row[0]].append(r)
    cells: Cells = {}
    for day, positions in days.items():
        for c in _count_columns(table):
            shown = figures.figure(
                [(date.fromisoformat(day), x) for x in table.columns[c].counters], area
            )
            values = [table.rows[r][c] for r in positions]
            decision = protect_group(
                values, k=figures.k, total=_state(shown, sum(values)), insiders=False
            )
            cells.update({(positions[i], c): None for i in decision.withheld})
    return cells


def _state(published: int | None, parts: int) -> Total:
    """What a reader knows of the total a breakdown adds up to. When the two were read at
    different moments (today's counters move) and differ, the breakdown must not tell it."""
    return Total.KNOWN if published is not None and published == parts else Total.HIDDEN


_CELLS = {
    Layout.DAYS: _days,
    Layout.AREAS: _areas,
    Layout.STAGES: _stages,
    Layout.BUCKETS: _buckets,
    Layout.OPERATORS: _operators,
}
