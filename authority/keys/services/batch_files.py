"""A batch's file: where files are stored, its keys streamed in key order, its padding.

Used by the publication's writing step (services/publication.py), which signs and zips
what this module reads into a temporary file, then stores it.
"""

from __future__ import annotations

import hashlib
import heapq
import secrets
from collections.abc import Iterator
from itertools import chain, islice
from operator import itemgetter
from typing import IO, Any

import psycopg
from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import connections, router

from authority.formats.gaen.export import KeyRow
from authority.keys.models import Batch, ClaimedReceivedKey, ExposureKey
from authority.keys.planning import hash_joins_only, with_no_nested_loops

# Rows fetched per round trip while streaming a batch's keys.
STREAM_CHUNK_SIZE = 5000
# The columns of a KeyRow (authority.formats.gaen.export), in its order.
KEY_FIELDS = (
    "key_data",
    "rolling_start_interval_number",
    "rolling_period",
    "transmission_risk_level",
    "report_type",
    "days_since_onset_of_symptoms",
)


def batch_storage() -> Storage:
    return storages["batches"]


def padding_for(batch: Batch) -> list[KeyRow]:
    """Random keys copying the metadata of real ones (ours and those received from the
    European gateway alike), up to KEYS_MIN_PER_FILE, in key order."""
    missing = settings.KEYS_MIN_PER_FILE - batch.key_count
    if missing <= 0:
        return []
    # Fewer real keys than the minimum: their metadata fits in memory.
    templates = (
        []
        if batch.country
        else list(ExposureKey.objects.filter(batch=batch).values_list(*KEY_FIELDS[1:]))
    )
    templates += ClaimedReceivedKey.objects.filter(batch=batch).values_list(
        *(f"key__{name}" for name in KEY_FIELDS[1:])
    )
    chooser = secrets.SystemRandom()
    padding: list[KeyRow] = [
        (secrets.token_bytes(16), *chooser.choice(templates)) for _ in range(missing)
    ]
    padding.sort(key=itemgetter(0))
    return padding


def merged_in_key_order(
    blocks: Iterator[list[KeyRow]],
    padding: list[KeyRow],
    received: Iterator[list[KeyRow]] | None = None,
) -> Iterator[KeyRow]:
    """The real keys (sorted blocks), those received from the gateway (sorted blocks) and the
    padding (sorted), as one sorted sequence."""
    real = chain.from_iterable(blocks)  # no Python frame per row
    others = [padding] if padding else []
    if received is not None:
        others.append(chain.from_iterable(received))  # type: ignore[arg-type]
    # Big files of our own keys have nothing to merge: no merge to pay for on every key.
    return heapq.merge(real, *others, key=itemgetter(0)) if others else real


def received_key_blocks(batch: Batch) -> Iterator[list[KeyRow]]:
    """The keys received from the European gateway that this batch publishes, in key order,
    as blocks of KeyRows (few next to ours: the default connection, in chunks)."""
    rows = (
        ClaimedReceivedKey.objects.filter(batch=batch)
        .order_by("key__key_data", "key__rolling_start_interval_number")
        .values_list(*(f"key__{name}" for name in KEY_FIELDS))
        .iterator(chunk_size=STREAM_CHUNK_SIZE)
    )
    block: list[KeyRow] = []
    for key_data, *fields in rows:
        block.append((bytes(key_data), *fields))
        if len(block) == STREAM_CHUNK_SIZE:
            yield block
            block = []
    if block:
        yield block


def size_and_digest(spool: IO[bytes]) -> tuple[int, str]:
    spool.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := spool.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


class BatchKeys:
    """A batch's keys in key order, as blocks of KeyRows; a context manager.

    On PostgreSQL, outside a transaction, they come through a connection of their own,
    streamed in chunks, in binary; the default connection stays free for the progress
    reports made meanwhile, and leaving the block closes the connection, even when a
    failure leaves the rows half read. Inside a transaction (tests) only the default
    connection sees what it claimed: its cursor is used, which holds the whole result.
    """

    def __init__(self, batch: Batch) -> None:
        # Another country's series holds none of our keys: nothing to read.
        self._none = bool(batch.country)
        query = (
            ExposureKey.objects.filter(claim__batch=batch)
            .order_by("key_data", "rolling_start_interval_number")
            .values_list(*KEY_FIELDS)
        )
        self._sql, self._params = query.query.sql_with_params()
        self._connection = connections[router.db_for_read(ExposureKey)]
        self._own_connection: Any = None

    def __enter__(self) -> BatchKeys:
        if self._none:
            return self
        if self._connection.vendor == "postgresql" and not self._connection.in_atomic_block:
            # Its query joins the claims table: hash joins only (authority.keys.planning).
            params = with_no_nested_loops(self._connection.get_connection_params())
            self._own_connection = self._connection.get_new_connection(params)
            self._own_connection.autocommit = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._own_connection is not None:
            self._own_connection.close()

    def blocks(self) -> Iterator[list[KeyRow]]:
        if self._none:
            return
        if self._own_connection is None:
            with hash_joins_only(), self._connection.cursor() as cursor:
                cursor.execute(self._sql, self._params)
                while block := cursor.fetchmany(STREAM_CHUNK_SIZE):
                    yield block
            return
        # Django makes client-side binding cursors, which cannot return binary results.
        rows = psycopg.Cursor(self._own_connection).stream(
            self._sql, self._params, binary=True, size=STREAM_CHUNK_SIZE
        )
        while block := list(islice(rows, STREAM_CHUNK_SIZE)):
            yield block
