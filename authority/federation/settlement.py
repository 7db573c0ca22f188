"""Whether the gateway stored one of our batches whose answer was lost: our own signature in its audit.

The gateway's 409 ("tag exists") and its payload-hash 207 only look at keys it still holds,
and its nightly clean-up deletes them 2 to 3 days after they were stored
(DiagnosisKeyCleanupService, `max-age-in-days` 2). A 400 to a re-sent batch says nothing
either: its key validator answers before the tag check, so a batch stored by an earlier
attempt is refused once one of its keys has aged out. The audit answers the question while
the gateway still serves the day: it lists every upload in each download batch, our own
included (the download leaves our keys out; the audit does not), with its batch signature.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from authority.federation.client import GatewayClient
from authority.federation.configuration import Federation
from authority.federation.download import NO_NEXT_BATCH, DownloadStopped, _audit, _call
from authority.federation.models import OutboundBatch

# DiagnosisKeyCleanupService deletes keys stored before midnight UTC this many days ago
# (efgs.download-settings.max-age-in-days, 2 since 2021-05-17); the download and the audit
# answer 410 for days before as many days ago.
GATEWAY_MEMORY_DAYS = 2
# Our clock and the gateway's may differ: a day is taken as forgotten this much early.
CLOCK_MARGIN = timedelta(hours=1)
# The gateway puts new uploads into download batches every 5 minutes (efgs.batching
# .timeinterval); an upload not in any batch an hour later was not stored.
BATCHING_DELAY = timedelta(hours=1)
# At most this many download batches are read to find one upload (about three days' worth).
MAX_BATCHES = 1000


class Outcome(enum.Enum):
    STORED = "stored"  # our signature is in a batch's audit
    NOT_FOUND = "not_found"  # every batch since the first attempt was read: not there
    FORGOTTEN = "forgotten"  # the gateway no longer serves the day of the first attempt


@dataclass(frozen=True)
class Settlement:
    outcome: Outcome
    gateway_batch: str = ""  # the download batch whose audit lists our upload
    uploaded_at: datetime | None = None


def first_sent(batch: OutboundBatch) -> datetime:
    """When the batch's first request left (its creation for batches from before we kept that)."""
    return batch.first_sent_at or batch.created_at


def forgotten_by_gateway(moment: datetime, *, now: datetime) -> bool:
    """Whether the gateway's clean-up may already have deleted what it stored at `moment`."""
    ahead = (now + CLOCK_MARGIN).astimezone(UTC)
    midnight = ahead.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment < midnight - timedelta(days=GATEWAY_MEMORY_DAYS)


def find_in_audit(
    batch: OutboundBatch,
    *,
    federation: Federation,
    client: GatewayClient,
    now: datetime,
    sleep: Callable[[float], None],
) -> Settlement:
    """Look for our upload of `batch` in the audit of every download batch since its first attempt.

    An entry of our country with our batch signature (and the batch's key count) means the
    gateway stored it. Raises GatewayUnreachable when the gateway does not answer, and
    settlement.Unanswered when it answers something else than the protocol allows.
    """
    sent = first_sent(batch)
    if forgotten_by_gateway(sent, now=now):
        return Settlement(Outcome.FORGOTTEN)
    since: date = sent.astimezone(UTC).date()
    tag: str | None = None
    for _count in range(MAX_BATCHES):
        response = _call(
            partial(client.download, day=since, batch_tag=tag), federation=federation, sleep=sleep
        )
        if response.status == 410:
            return Settlement(Outcome.FORGOTTEN)
        if response.status == 404:
            return Settlement(Outcome.NOT_FOUND)  # no (more) batches since that day
        if response.status != 200:
            raise Unanswered(f"the gateway answered {response.status} to a download")
        gateway_batch = response.header("batchTag") or tag or ""
        try:
            _day, entries = _audit(
                federation=federation,
                client=client,
                batch_tag=gateway_batch,
                requested_day=since,
                now=now,
                sleep=sleep,
            )
        except DownloadStopped as error:
            raise Unanswered(f"its audit of batch {gateway_batch}: {error}") from error
        for entry in entries or []:
            if (
                entry.country == federation.country
                and entry.batch_signature == batch.batch_signature
                and entry.amount == batch.key_count
            ):
                return Settlement(Outcome.STORED, gateway_batch, entry.uploaded_at)
        next_tag = response.header("nextBatchTag") or NO_NEXT_BATCH
        if next_tag == NO_NEXT_BATCH:
            return Settlement(Outcome.NOT_FOUND)
        tag = next_tag
    raise Unanswered(f"more than {MAX_BATCHES} batches since {since}")


class Unanswered(Exception):
    """The gateway's answers do not settle the question now (the message says why)."""
