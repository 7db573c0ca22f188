"""The one small-count rule (authority/statistics/disclosure.py), proved on random tables: no
withheld figure can be worked out, or shown to be below k, from what is published with it,
not even by a region's staff who know their own figures. The judge is tests/statistics/reader.py
(an integer linear program over everything the reader knows), not the rule's own arithmetic.
"""

from __future__ import annotations

from itertools import product

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from authority.statistics.disclosure import (
    COUNTRY,
    DailyFigures,
    Total,
    is_small,
    protect_cells,
    protect_group,
    protects,
)
from tests.conftest import IN_CI
from tests.statistics.reader import Reader, assert_safe

K = st.integers(min_value=2, max_value=8)
# Each example solves dozens of integer programs: a quick look locally, a long one in CI.
EXAMPLES = 200 if IN_CI else 30
MILP = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def counts(k: int, *, min_size: int = 1, max_size: int = 7) -> st.SearchStrategy[list[int]]:
    """Counts as they come: many zeros, many small ones, some large."""
    count = st.one_of(st.just(0), st.integers(1, k - 1), st.integers(k, 3 * k + 30))
    return st.lists(count, min_size=min_size, max_size=max_size)


@st.composite
def group(draw: st.DrawFn) -> tuple[int, list[int]]:
    k = draw(K)
    return k, draw(counts(k))


# --- The rule on the examples of DESIGN.md and the open data ------------------------------------


@pytest.mark.parametrize(
    ("values", "withheld", "total_withheld"),
    [
        ([9, 3, 6, 7], {1, 2, 3}, False),  # 3 takes the two smallest others with it
        ([20, 3, 8, 40], {0, 1, 2}, False),
        ([1, 1, 50], {0, 1, 2}, True),  # 1 + 1 = 2: both are 1, whatever else is withheld
        ([3, 20], {0, 1}, True),  # Lazio's staff know their 20: the country would give 3 away
        ([4, 4, 4], {0, 1, 2}, False),
        ([2, 6, 40, 0], {0, 1, 2}, False),
        ([0, 12, 30], set(), False),  # nothing small: all published, zeros too
        ([1, 1, 1, 1, 1, 1], {0, 1, 2, 3, 4, 5}, True),  # six ones: "6" would tell all are 1
    ],
)
def test_the_rule_on_examples(values, withheld, total_withheld):
    decision = protect_group(values, k=5)
    assert (set(decision.withheld), decision.total_withheld) == (withheld, total_withheld)


def test_one_figure_never_protects_itself():
    assert not protects([2], 5) and not protects([40], 5)
    assert not protects([40], 5, insiders=False)
    assert protects([2, 6, 40], 5) and not protects([2, 6], 5)


def test_without_insiders_two_figures_can_protect_each_other():
    assert protects([1, 5], 5, insiders=False)  # 6 in two: the 1 could be a 5
    assert not protects([1, 4], 5, insiders=False)  # 5 in two: both are below 5


def test_national_only_figures_are_withheld_when_small():
    assert protect_cells([0, 1, 4, 5, 100], k=5) == {1, 2}


# --- No withheld figure follows from the published ones ------------------------------------------


def reader_of_group(values: list[int], decision, *, total: int | None) -> Reader:
    reader = Reader()
    whole = len(decision.withheld) == len(values)
    for position, value in enumerate(values):
        if position in decision.withheld:
            reader.unknown(position, at_least=0 if whole and total is not None else 1)
        else:
            reader.knows(position, value)
    if total is None:
        reader.unknown("total")
    else:
        reader.knows("total", total)
    reader.adds_up("total", list(range(len(values))))
    return reader


@MILP
@given(group())
def test_the_regions_of_a_day_give_no_withheld_figure_away(case):
    """Regions and abroad add up to the country: published, or withheld by the rule. Readers
    know everything published, and a region's staff their own figure besides."""
    k, values = case
    decision = protect_group(values, k=k)
    assert {i for i, v in enumerate(values) if is_small(v, k)} <= decision.withheld
    assert all(values[i] > 0 for i in decision.withheld)  # zeros are always published
    total = None if decision.total_withheld else sum(values)
    assert total is None or not is_small(total, k)
    withheld = {i: values[i] for i in decision.withheld}
    for own in [None, *decision.withheld]:
        reader = reader_of_group(values, decision, total=total)
        if own is not None:
            reader.knows(own, values[own])
        assert_safe(reader, withheld, k)


@MILP
@given(group())
def test_a_breakdown_of_a_published_total_gives_nothing_away(case):
    """Buckets of a histogram, operators of a region's day: their total is published by
    another table and cannot be withheld here."""
    k, values = case
    assume(not is_small(sum(values), k))  # a published total is never small
    decision = protect_group(values, k=k, total=Total.KNOWN, insiders=False)
    assert not decision.total_withheld
    reader = reader_of_group(values, decision, total=sum(values))
    assert_safe(reader, {i: values[i] for i in decision.withheld}, k)


@MILP
@given(data=st.data())
def test_a_breakdown_never_gives_its_withheld_total_away(data):
    """A region's figure of the day, broken down by operator: when the region's figure is
    withheld (small, or protecting another region), the breakdown must not give it back."""
    k = data.draw(K)
    parts = data.draw(counts(k, max_size=4))
    others = data.draw(counts(k, max_size=5))
    areas = [sum(parts), *others]  # area 0 is the one broken down
    parent = protect_group(areas, k=k)
    hidden = 0 in parent.withheld
    child = protect_group(parts, k=k, total=Total.HIDDEN if hidden else Total.KNOWN, insiders=False)
    withheld = {("area", i): areas[i] for i in parent.withheld}
    withheld |= {("part", i): parts[i] for i in child.withheld}
    whole = len(child.withheld) == len(parts)
    for own in [None, *(i for i in parent.withheld if i != 0)]:
        reader = Reader()
        for i, value in enumerate(areas):
            if i in parent.withheld and i != own:
                reader.unknown(("area", i), at_least=0 if i == 0 and whole else 1)
            else:
                reader.knows(("area", i), value)
        for i, value in enumerate(parts):
            if i in child.withheld:
                reader.unknown(("part", i), at_least=0 if whole else 1)
            else:
                reader.knows(("part", i), value)
        if parent.total_withheld:
            reader.unknown("country")
        else:
            reader.knows("country", sum(areas))
        reader.adds_up("country", [("area", i) for i in range(len(areas))])
        reader.adds_up(("area", 0), [("part", i) for i in range(len(parts))])
        assert_safe(reader, withheld, k)


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sums_over_days_and_counters_give_nothing_away(data):
    """Every table built from DailyFigures (days, periods, two counters added up, by area and
    for the country) together, with one region's own figures known: still nothing."""
    k = data.draw(K)
    days, areas = data.draw(st.integers(1, 3)), data.draw(st.integers(2, 4))
    counters = ("issued", "authorized")
    figures = DailyFigures(k=k)
    truth: dict[tuple[int, str, int | None], int] = {}
    for day, counter in product(range(days), counters):
        values = data.draw(counts(k, min_size=areas, max_size=areas))
        figures.add_areas(day, counter, dict(enumerate(values)))
        truth |= {(day, counter, area): value for area, value in enumerate(values)}
        truth[(day, counter, COUNTRY)] = sum(values)
    withheld = {
        (day, counter, area): value
        for (day, counter, area), value in truth.items()
        if not figures.published(day, counter, area)
    }
    for own in ["nobody", *range(areas)]:  # (None is COUNTRY)
        reader = Reader()
        for cell, value in truth.items():
            if cell in withheld and cell[2] != own:
                reader.unknown(cell)
            else:
                reader.knows(cell, value)
        for day, counter in product(range(days), counters):
            cells = [(day, counter, area) for area in range(areas)]
            reader.adds_up((day, counter, COUNTRY), cells)
        # Every sum a table can show: any run of days, one counter or both, any area.
        for first, last in product(range(days), repeat=2):
            for chosen, area in product(
                [counters[:1], counters[1:], counters], [*range(areas), COUNTRY]
            ):
                summed = [(d, c) for d in range(first, last + 1) for c in chosen]
                shown = figures.figure(summed, area)
                if shown is not None:
                    name = ("sum", first, last, chosen, area)
                    reader.knows(name, shown)
                    reader.adds_up(name, [(d, c, area) for d, c in summed])
        # The staff of a region whose figure alone makes the country's learn nothing about
        # anyone else from it: only the other areas' figures are judged for them.
        judged = {
            c: v for c, v in withheld.items() if own == "nobody" or c[2] not in (own, COUNTRY)
        }
        assert_safe(reader, judged, k)


def test_a_sum_is_withheld_when_any_of_its_figures_is():
    figures = DailyFigures(k=5)
    figures.add_areas("monday", "uploads", {"12": 20, "03": 3, "19": 8, "05": 40})
    figures.add_areas("tuesday", "uploads", {"12": 30, "03": 9, "19": 12, "05": 41})
    assert figures.figure([("tuesday", "uploads")], "12") == 30
    assert figures.figure([("monday", "uploads"), ("tuesday", "uploads")], "12") is None
    assert figures.figure([("monday", "uploads"), ("tuesday", "uploads")], "05") == 81
    assert figures.figure([("monday", "uploads")]) == 71  # the country
    figures.add_national("monday", "batches", 3)
    assert figures.figure([("monday", "batches")]) is None
