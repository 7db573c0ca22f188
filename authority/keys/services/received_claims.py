"""Claiming the keys received from the European gateway: beside ours in the national files, and in one series of files per country.

A step of a publication (services/publication.py), run in its claim transaction right after
our own keys are claimed (services/claims.py), holding the publication lock: that, and
taking only keys without a claim for the series, is what makes each received key published
at most once in each series. Received keys are far fewer than ours (the gateway's daily
batches, not a country's uploads), so they are claimed through Python, in key order.

- Keys that list our country among their visited ones (federation.selectors) go into the
  national files, filling the room the new files have left, then new files: phones cannot
  tell them from ours (sorted with them, padded with them, no origin in GAEN).
- The others go into the series of each country they come from or visited (Immuni's
  /v1/keys/eu/{country}), which our users who travelled there download.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from django.db.models import Count, Exists, Max, Min, OuterRef, QuerySet

from authority.federation.models import ReceivedKey
from authority.federation.selectors import (
    received_keys_for_country,
    received_keys_for_national_export,
    received_keys_for_other_countries,
)
from authority.keys.models import Batch, ClaimedReceivedKey, ExposureKey, PublicationRun
from authority.keys.services.claims import BatchContents

NATIONAL = ""  # the national series' country
_COUNTRY = re.compile(r"^[A-Z]{2}$")  # what /v1/keys/eu/{country} can name
_INSERT_BATCH_SIZE = 5000

# (id, rolling start, rolling end) of a key to claim.
_Due = tuple[UUID, int, int]


def claim_received_for_national(
    *,
    run: PublicationRun,
    now: datetime,
    new_batches: dict[int, BatchContents],
    max_keys: int,
) -> dict[int, BatchContents]:
    """Claim the due received keys for our country into the run's new national batches, as
    far as they have room, then into new ones; every batch that got keys, with its contents.

    `new_batches` are the batches this run has just claimed our keys for (their contents
    are updated in place). A received key equal to one of ours (same key and interval) is
    left out: a file holds each key once.
    """
    due = _due_rows(
        _unclaimed(received_keys_for_national_export(now=now), NATIONAL).filter(
            ~Exists(
                ExposureKey.objects.filter(
                    key_data=OuterRef("key_data"),
                    rolling_start_interval_number=OuterRef("rolling_start_interval_number"),
                )
            )
        )
    )
    if not due:
        return {}
    touched: dict[int, BatchContents] = {}
    claims: list[ClaimedReceivedKey] = []
    for batch_id, contents in sorted(new_batches.items()):
        room = max_keys - contents.keys
        if room <= 0:
            continue
        taken, due = due[:room], due[room:]
        _claim(claims, taken, batch_id=batch_id, country=NATIONAL, contents=contents)
        touched[batch_id] = contents
        if not due:
            break
    touched.update(_new_batches(claims, due, run=run, country=NATIONAL, max_keys=max_keys))
    ClaimedReceivedKey.objects.bulk_create(claims, batch_size=_INSERT_BATCH_SIZE)
    return touched


def claim_received_for_countries(
    *, run: PublicationRun, now: datetime, max_keys: int
) -> dict[int, BatchContents]:
    """Claim the due received keys of every other country's series into new batches of that
    series; the new batches with their contents."""
    touched: dict[int, BatchContents] = {}
    claims: list[ClaimedReceivedKey] = []
    for country in _countries_with_keys(now):
        due = _due_rows(_unclaimed(received_keys_for_country(country=country, now=now), country))
        touched.update(_new_batches(claims, due, run=run, country=country, max_keys=max_keys))
    ClaimedReceivedKey.objects.bulk_create(claims, batch_size=_INSERT_BATCH_SIZE)
    return touched


def received_contents(batch_ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """(keys, first start, last end) of the received keys claimed by these batches."""
    rows = (
        ClaimedReceivedKey.objects.filter(batch__in=batch_ids)
        .values_list("batch")
        .annotate(
            keys=Count("*"),
            start=Min("key__rolling_start_interval_number"),
            end=Max("key__rolling_end_interval_number"),
        )
        .order_by()
    )
    return {batch_id: (keys, start, end) for batch_id, keys, start, end in rows}


def _countries_with_keys(now: datetime) -> list[str]:
    """The countries whose series has keys to claim: the origins and visited countries of
    the due keys with no claim yet. A key is claimed for all its series in one transaction,
    so a key with any claim has them all."""
    pairs = (
        received_keys_for_other_countries(now=now)
        .filter(~Exists(ClaimedReceivedKey.objects.filter(key=OuterRef("pk"))))
        .values_list("origin", "visited_countries")
        .distinct()
    )
    countries: set[str] = set()
    for origin, visited in pairs:
        countries.add(origin)
        countries.update(visited.split(","))
    return sorted(country for country in countries if _COUNTRY.match(country))


def _unclaimed(keys: QuerySet[ReceivedKey], country: str) -> QuerySet[ReceivedKey]:
    return keys.filter(
        ~Exists(ClaimedReceivedKey.objects.filter(key=OuterRef("pk"), country=country))
    )


def _due_rows(keys: QuerySet[ReceivedKey]) -> list[_Due]:
    """The keys' ids and validity, in key order (random with respect to their origin)."""
    return list(
        keys.order_by("key_data", "rolling_start_interval_number").values_list(
            "pk", "rolling_start_interval_number", "rolling_end_interval_number"
        )
    )


def _claim(
    claims: list[ClaimedReceivedKey],
    rows: Sequence[_Due],
    *,
    batch_id: int,
    country: str,
    contents: BatchContents,
) -> None:
    if not rows:
        return
    claims.extend(
        ClaimedReceivedKey(key_id=key_id, country=country, batch_id=batch_id)
        for key_id, _start, _end in rows
    )
    contents.add_received(
        keys=len(rows),
        start=min(start for _id, start, _end in rows),
        end=max(end for _id, _start, end in rows),
    )


def _new_batches(
    claims: list[ClaimedReceivedKey],
    due: Sequence[_Due],
    *,
    run: PublicationRun,
    country: str,
    max_keys: int,
) -> dict[int, BatchContents]:
    """New batches of `country`'s series for `due`, at most `max_keys` each."""
    touched: dict[int, BatchContents] = {}
    for first in range(0, len(due), max_keys):
        batch = Batch.objects.create(run=run, country=country)
        contents = BatchContents()
        _claim(
            claims, due[first : first + max_keys], batch_id=batch.pk, country=country,
            contents=contents,
        )  # fmt: skip
        touched[batch.pk] = contents
    return touched
