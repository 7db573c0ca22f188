"""An independent judge of suppression: what a reader can work out from published figures.

The reader knows every published figure, how the figures add up (linear equations), that a
withheld figure is a whole number of at least one (zeros are published) or of at least zero
where a whole group was withheld, and whatever else a test gives them (their own region's
figures). The smallest and largest value of an unknown figure consistent with all of that
come from an integer linear program (scipy's HiGHS): nothing here repeats the rule's own
reasoning, so the tests cannot agree with the code by construction.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

CAP = 1_000_000

# What names a figure: a test's own cells (tuples, numbers), any hashable value.
Figure = TypeVar("Figure", bound=Hashable)


class Reader:
    def __init__(self) -> None:
        self.lower: dict[Hashable, int] = {}  # unknown figure -> its least possible value
        self.known: dict[Hashable, int] = {}
        self.equations: list[tuple[Hashable, Sequence[Hashable]]] = []

    def knows(self, name: Hashable, value: int) -> None:
        self.known[name] = value
        self.lower.pop(name, None)

    def unknown(self, name: Hashable, *, at_least: int = 1) -> None:
        if name not in self.known:
            self.lower[name] = at_least

    def adds_up(self, total: Hashable, parts: Sequence[Hashable]) -> None:
        """total = sum(parts), each a known or unknown figure (now or later)."""
        self.equations.append((total, parts))

    def _linear(self) -> list[tuple[dict[Hashable, int], int]]:
        """The equations over the unknowns only: terms and the constant on the right."""
        linear = []
        for total, parts in self.equations:
            terms: dict[Hashable, int] = {}
            constant = 0
            for name, sign in [(total, 1), *((part, -1) for part in parts)]:
                if name in self.known:
                    constant -= sign * self.known[name]
                else:
                    terms[name] = terms.get(name, 0) + sign
            linear.append((terms, constant))
        return linear

    def range_of(self, name: Hashable) -> tuple[float, float]:
        """(least, greatest) value of an unknown figure the reader cannot rule out."""
        names = list(self.lower)
        index = {n: i for i, n in enumerate(names)}
        linear = self._linear()
        matrix = np.zeros((len(linear), len(names)))
        rhs = np.zeros(len(linear))
        for row, (terms, constant) in enumerate(linear):
            for term, coefficient in terms.items():
                matrix[row, index[term]] = coefficient
            rhs[row] = constant
        # A cap far above any count keeps every program bounded (HiGHS cannot tell
        # "unbounded" from "infeasible" in presolve); reaching it means "no upper bound".
        bounds = Bounds([self.lower[n] for n in names], np.full(len(names), CAP))
        constraints = [LinearConstraint(matrix, rhs, rhs)] if linear else []
        result = []
        for sign in (1, -1):
            objective = np.zeros(len(names))
            objective[index[name]] = sign
            answer = milp(
                objective,
                constraints=constraints,
                integrality=np.ones(len(names)),
                bounds=bounds,
            )
            assert answer.status == 0, answer.message  # the truth is always a solution
            value = sign * answer.fun
            result.append(math.inf if value >= CAP - 1000 else value)
        return result[0], result[1]


def assert_safe(reader: Reader, withheld: Mapping[Figure, int], k: int) -> None:
    """No withheld figure is worked out, nor shown to be below k."""
    for name, truth in withheld.items():
        if name in reader.known:
            continue
        least, greatest = reader.range_of(name)
        assert least <= truth <= greatest, (name, truth, least, greatest)
        assert least < greatest, f"{name} = {truth} is worked out"
        assert greatest >= k, f"{name} = {truth} is shown to be below {k} (at most {greatest})"
