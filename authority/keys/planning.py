"""Hash joins only, for the queries that join the claims table to the keys.

The claims table (ClaimedKey) has no index on PostgreSQL, on purpose (see its docstring).
Every query that joins it is therefore safe only as a hash (or merge) join, which reads it
once. A nested loop reads it once per row of the other side: harmless when the planner
is right that the other side is a row or two, quadratic when statistics are stale. They
are stale whenever a table grew faster than autovacuum analyzes it: a fresh deployment's
first busy hour, a restore, or keys stored soon after retention emptied the table. CI met
it: keys analyzed when empty, 80,000 then stored and claimed, and one file's query ran for
four minutes (nested loop over the keys' index, the claims scanned whole for each key)
instead of a tenth of a second.

`hash_joins_only()` turns nested loops off for the rest of a transaction, and
NO_NESTED_LOOPS does it for a connection of its own (the options its server applies).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, router, transaction

from authority.keys.models import ClaimedKey

# libpq's `options`: run-time settings the server applies to the whole session.
NO_NESTED_LOOPS = "-c enable_nestloop=off"


@contextmanager
def hash_joins_only() -> Iterator[None]:
    """On PostgreSQL: no nested loops until the block ends, inside a transaction (one is
    opened if none is). The setting the block found is restored when it leaves."""
    using = router.db_for_write(ClaimedKey)
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using, savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_nestloop')")
            [previous] = cursor.fetchone()
            cursor.execute("SET LOCAL enable_nestloop = off")
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [previous])


def with_no_nested_loops(params: dict[str, object]) -> dict[str, object]:
    """Connection parameters (Django's get_connection_params) for a session of its own with
    nested loops off, keeping any `options` the settings already pass."""
    options = str(params.get("options") or "")
    return {**params, "options": f"{options} {NO_NESTED_LOOPS}".strip()}
