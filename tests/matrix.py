"""Shared pieces of the permission matrices: who asks, and what each outcome means."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.test import Client

LOGIN = "login"  # redirected to the login page

# What an actor gets: LOGIN, or the status code of the answer.
Outcome = str | int
# (method, path, the outcome for each actor in ACTORS order)
Row = tuple[str, str, list[Outcome]]

# The subject of a row lives in Lazio: "operator" and "supervisor" are of its region,
# "foreign_operator" and "foreign_supervisor" of another one.
ACTORS = [
    "anonymous",
    "operator",
    "foreign_operator",
    "supervisor",
    "foreign_supervisor",
    "administrator",
]


def matrix(rows: Sequence[Row], actors: Sequence[str] = ACTORS) -> Callable[[Any], Any]:
    """Parametrize a test over every (row, actor) cell: arguments method, path, outcome, actor."""
    cells = [
        (method, path, outcomes[i], actor)
        for method, path, outcomes in rows
        for i, actor in enumerate(actors)
    ]
    ids = [f"{actor}-{method} {path}" for method, path, _, actor in cells]
    return pytest.mark.parametrize(("method", "path", "outcome", "actor"), cells, ids=ids)


def client_as(actor: str, user: Any, signed_in: Callable[[Any], Client]) -> Client:
    return Client() if actor == "anonymous" else signed_in(user)


def assert_outcome(response: Any, outcome: Outcome) -> None:
    if outcome == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == outcome
