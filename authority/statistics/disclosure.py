"""Which counts a published table withholds so that no one can be singled out (DESIGN.md 3.6).

The one rule, written once, for the open data, every download of the dashboard and /metrics.
Pure: no Django, so that it can be proved with property-based tests and reused anywhere.

The rule, for a *group* of figures that add up to a total (the regions and "abroad" of one day
add up to the country's figure of that day; the operators of one region and day add up to the
region's figure; the buckets of a histogram add up to the period's total):

1. a count from 1 to k-1 is withheld; a zero is published (it singles nobody out);
2. if anything is withheld, the smallest other non-zero figures are withheld with it until
   `protects()` holds: whoever knows the total, and even one of the withheld figures exactly
   (a region's staff know their own region's figures), cannot tell that any other withheld
   figure is below k, let alone work it out;
3. if that cannot be reached, the total is withheld too; where the total is published by
   another table and cannot be withheld here, the whole group is withheld (zeros included).

All withheld figures look alike: a reader cannot tell the small ones from their complements.

Figures that add up several of these cells (a column summing two counters, a period summing
days) are published only when every cell they add up is (`DailyFigures.figure`): nothing
published anywhere is then more than a sum of published cells, so no combination of tables,
periods or downloads gives a withheld cell away. docs/statistics.md has the proof sketch.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

# The area key of the country's figure in DailyFigures (regions and "abroad" are the others).
COUNTRY = None


def is_small(value: int, k: int) -> bool:
    """A count that could single someone out: 1 to k-1 (a zero singles nobody out)."""
    return 0 < value < k


def protects(withheld: Sequence[int], k: int, *, insiders: bool = True) -> bool:
    """Whether a reader who knows the sum of these withheld figures, and with `insiders` one
    of them exactly besides, still cannot tell that any other of them is below k.

    Withheld figures are never zero (zeros are published), so each is at least 1. Knowing the
    sum S of the n figures they do not know, a reader can bound one of them by
    S - (n - 1); that bound must reach k for every such reader. The worst insider knows the
    largest figure, so the rest, without their minimum of one apiece, must add up to k - 1 or
    more. And at least two must stay unknown: one alone is its sum.
    """
    if not withheld:
        return True
    unknown = sum(withheld) - (max(withheld) if insiders else 0)
    count = len(withheld) - (1 if insiders else 0)
    return count >= 2 and unknown - count >= k - 1


class Total(Enum):
    """What a reader may know about the total of a group."""

    OPEN = "open"  # published with the group, or withheld by this rule when it must be
    KNOWN = "known"  # published elsewhere: it cannot be withheld here
    HIDDEN = "hidden"  # withheld elsewhere: what is published here must not give it away


@dataclass(frozen=True)
class GroupDecision:
    withheld: frozenset[int]  # positions of the withheld figures
    total_withheld: bool = False


NOTHING_WITHHELD = GroupDecision(frozenset())


def protect_group(
    values: Sequence[int], *, k: int, total: Total = Total.OPEN, insiders: bool = True
) -> GroupDecision:
    """The rule above for one group of figures (positions in `values`). `insiders`: some
    readers know one of the figures exactly (a region's staff know their region's); false
    for breakdowns no outsider can see a part of (the buckets of a histogram)."""
    withheld = [i for i, value in enumerate(values) if 0 < value < k]  # is_small, inlined
    if not withheld and total is not Total.HIDDEN:
        return NOTHING_WITHHELD  # most groups: decided without sorting anything
    # The smallest first; the position breaks ties, so that the same figures always give
    # the same decision, in every table and every release that shows them.
    others = sorted(
        (i for i, value in enumerate(values) if value >= k), key=lambda i: (values[i], i)
    )
    if total is Total.HIDDEN and not withheld and others:
        # Publishing every figure would publish their sum, which is withheld elsewhere.
        withheld.append(others.pop(0))
    if not withheld:
        return GroupDecision(frozenset())
    amounts = [values[i] for i in withheld]
    while not protects(amounts, k, insiders=insiders) and others:
        taken = others.pop(0)
        withheld.append(taken)
        amounts.append(values[taken])
    if protects(amounts, k, insiders=insiders):
        return GroupDecision(frozenset(withheld))
    if total is Total.OPEN:
        return GroupDecision(frozenset(withheld), total_withheld=True)
    # The total stays known (or its sum must stay hidden) whatever is withheld here: nothing
    # of the group is published, not even its zeros, which would tell the others are not zero.
    return GroupDecision(frozenset(range(len(values))))


def protect_cells(values: Sequence[int], *, k: int) -> frozenset[int]:
    """Figures that add up to nothing published (a national-only counter of one day)."""
    return frozenset(i for i, value in enumerate(values) if is_small(value, k))


@dataclass
class DailyFigures:
    """The figures of some counters over some days, by area and for the country, as published.

    Each (day, counter) of an area counter is one group: the areas (regions and "abroad") and
    the country's total (the area COUNTRY), decided once by `protect_group`, so that every
    table showing one of these figures shows it the same way. National-only counters (no
    areas: requests, batches...) have only the country's figure, withheld when small.
    """

    k: int
    # (day, counter) -> (figure by area, the country's included; the areas withheld)
    _groups: dict[tuple[Hashable, Hashable], tuple[dict[Any, int], frozenset[Any]]] = field(
        default_factory=dict
    )

    def add_areas(self, day: Hashable, counter: Hashable, by_area: Mapping[Any, int]) -> None:
        """One day of an area counter: its figure in every area (missing areas count zero)."""
        areas = list(by_area)
        values = [by_area[area] for area in areas]
        decision = protect_group(values, k=self.k)
        withheld = {areas[i] for i in decision.withheld}
        if decision.total_withheld:
            withheld.add(COUNTRY)
        self._groups[(day, counter)] = ({**by_area, COUNTRY: sum(values)}, frozenset(withheld))

    def add_national(self, day: Hashable, counter: Hashable, value: int) -> None:
        """One day of a counter kept for the whole country only."""
        withheld = frozenset({COUNTRY} if is_small(value, self.k) else ())
        self._groups[(day, counter)] = ({COUNTRY: value}, withheld)

    def value(self, day: Hashable, counter: Hashable, area: Hashable = COUNTRY) -> int:
        """The exact figure (for the drawn charts and the tests; never for a publication)."""
        group = self._groups.get((day, counter))
        return group[0].get(area, 0) if group else 0

    def published(self, day: Hashable, counter: Hashable, area: Hashable = COUNTRY) -> bool:
        group = self._groups.get((day, counter))
        return group is None or area not in group[1]

    def figure(
        self, cells: Iterable[tuple[Hashable, Hashable]], area: Hashable = COUNTRY
    ) -> int | None:
        """The sum of these (day, counter) figures of one area, or None when any of them is
        withheld: a sum that held a withheld figure would give it away by subtraction."""
        total = 0
        groups = self._groups
        for cell in cells:
            group = groups.get(cell)
            if group is None:
                continue  # nothing counted: zero everywhere, published
            values, withheld = group
            if area in withheld:
                return None
            total += values.get(area, 0)
        return total
