"""Download from the gateway: follow the batch chain, verify every part of every batch, keep what phones can use."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from authority.federation import callback, configuration, metrics, runs
from authority.federation.client import GatewayClient, GatewayResponse, GatewayUnreachable
from authority.federation.configuration import Federation
from authority.federation.models import FederationRun, InboundBatch, InboundChunk, ReceivedKey
from authority.formats.efgs import dsos
from authority.formats.efgs.batch import (
    TRANSMISSION_RISK_LEVEL_NOT_SET,
    BatchFormatError,
    DiagnosisKey,
    ReportType,
    decode_batch,
)
from authority.formats.efgs.verification import AuditEntry, Chunk, split_and_verify
from authority.statistics.services import increment

if TYPE_CHECKING:
    from authority.accounts.models import User

logger = logging.getLogger(__name__)

MAX_BATCHES_PER_RUN = 2000
NO_NEXT_BATCH = "null"  # the gateway's nextBatchTag when none follows
PHONE_REPORT_TYPES = frozenset({ReportType.CONFIRMED_TEST, ReportType.CONFIRMED_CLINICAL_DIAGNOSIS})
_TAG_DAY = re.compile(r"^(\d{4})(\d{2})(\d{2})-")


class DownloadStopped(Exception):
    """The gateway refused the download itself (403, 406, 415, ...): stop the run."""


def _call(
    operation: Callable[[], GatewayResponse],
    *,
    federation: Federation,
    sleep: Callable[[float], None],
) -> GatewayResponse:
    """A read, retried with backoff on an unknown outcome; downloads are safe to repeat."""
    for attempt in range(federation.attempts):
        try:
            return operation()
        except GatewayUnreachable as error:
            logger.warning("Federation download: %s", error)
            if attempt + 1 == federation.attempts:
                raise
            sleep(federation.backoff_seconds * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _stop(response: GatewayResponse) -> DownloadStopped:
    return DownloadStopped(
        f"the gateway answered {response.status}"
        + (f": {response.message}" if response.message else "")
    )


def run_download(
    *,
    trigger: str = FederationRun.Trigger.SCHEDULE,
    requested_by: User | None = None,
    run_id: int | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FederationRun | None:
    """One download run, from where the last one stopped to the newest batch. None when off."""
    if not configuration.enabled():
        runs.skip_queued(run_id=run_id, message="federation is off")
        return None
    run = runs.start_run(
        kind=FederationRun.Kind.DOWNLOAD, trigger=trigger, requested_by=requested_by, run_id=run_id
    )
    try:
        federation = configuration.load()
    except configuration.FederationMisconfigured as error:
        return _end(run, FederationRun.Status.FAILED, str(error))
    moment = now or timezone.now()
    client = GatewayClient(federation)
    note = ""
    try:
        note = callback.ensure_subscription(client=client)
        started = _follow_chain(
            run=run, federation=federation, client=client, now=moment, sleep=sleep
        )
        note = "; ".join(part for part in (note, started) if part)
    except GatewayUnreachable as error:
        return _end(run, FederationRun.Status.FAILED, f"the gateway did not answer: {error}")
    except DownloadStopped as error:
        return _end(run, FederationRun.Status.FAILED, str(error))
    except Exception as error:
        # Recorded before the task sees it (and may retry, in a new run): never left "running".
        _end(run, FederationRun.Status.FAILED, f"{type(error).__name__}: {error}")
        raise
    finally:
        client.close()
    return _end(run, FederationRun.Status.SUCCEEDED, note)


def _end(run: FederationRun, status: str, message: str) -> FederationRun:
    return runs.finish_run(run=run, status=status, message=message)


def _follow_chain(
    *,
    run: FederationRun,
    federation: Federation,
    client: GatewayClient,
    now: datetime,
    sleep: Callable[[float], None],
) -> str:
    """Download every batch from the cursor on; a sentence for the run when it had to start later."""
    today = now.astimezone(UTC).date()
    oldest = today - timedelta(days=settings.FEDERATION_DOWNLOAD_DAYS)
    cursor = InboundBatch.objects.order_by("-id").first()
    if cursor is not None and cursor.batch_date >= oldest:
        # Resume: the batch after the last one kept, or that one again to learn whether the
        # gateway has linked a newer batch to it since.
        day, tag = cursor.batch_date, cursor.next_batch_tag or cursor.batch_tag
    else:
        day, tag = oldest, None
    restarted = False
    note = ""
    for _count in range(MAX_BATCHES_PER_RUN):
        response = _call(
            partial(client.download, day=day, batch_tag=tag),
            federation=federation,
            sleep=sleep,
        )
        if response.status in (404, 410, 400) and tag is not None and not restarted:
            # The batch we resume from is gone, or its day has expired: start again from the
            # oldest day the gateway keeps (batches already kept are recognised by their tag).
            day, tag, restarted = oldest, None, True
            continue
        if response.status == 410 and tag is None and day < today:
            # The gateway keeps fewer days than we asked for (FEDERATION_DOWNLOAD_DAYS above
            # its max-age-in-days), or its midnight passed since `now`: a day later.
            day += timedelta(days=1)
            note = f"the gateway no longer keeps the days before {day}: started from {day}"
            continue
        if response.status == 404:
            return note  # nothing (more) since that day
        if response.status != 200:
            raise _stop(response)
        batch_tag = response.header("batchTag") or tag or ""
        next_tag = response.header("nextBatchTag") or NO_NEXT_BATCH
        next_tag = "" if next_tag == NO_NEXT_BATCH else next_tag
        known = InboundBatch.objects.filter(batch_tag=batch_tag).first()
        if known is not None:
            if next_tag and known.next_batch_tag != next_tag:
                InboundBatch.objects.filter(pk=known.pk).update(next_batch_tag=next_tag)
        else:
            _keep_batch(
                run=run,
                federation=federation,
                client=client,
                batch_tag=batch_tag,
                next_tag=next_tag,
                requested_day=day,
                body=response.body,
                now=now,
                sleep=sleep,
            )
        if not next_tag:
            return note
        if known is not None:
            day = max(day, known.batch_date)
        tag = next_tag
    return note


def _tag_day(batch_tag: str, requested_day: date) -> date:
    """The batch's own day, from its name (the gateway names batches yyyyMMdd-N)."""
    match = _TAG_DAY.match(batch_tag)
    if match:
        with contextlib.suppress(ValueError):
            return max(requested_day, date(int(match[1]), int(match[2]), int(match[3])))
    return requested_day


def _audit(
    *,
    federation: Federation,
    client: GatewayClient,
    batch_tag: str,
    requested_day: date,
    now: datetime,
    sleep: Callable[[float], None],
) -> tuple[date, list[AuditEntry] | None]:
    """The batch's day and audit entries; None when no day of the gateway's window knows the batch.

    The audit wants the batch's own day, which the download does not say: try the day its
    tag begins with (the gateway names batches yyyyMMdd-N), then each day from the one asked.
    """
    today = now.astimezone(UTC).date()
    days: list[date] = []
    match = _TAG_DAY.match(batch_tag)
    if match:
        with contextlib.suppress(ValueError):
            days.append(date(int(match[1]), int(match[2]), int(match[3])))
    day = requested_day
    while day <= today:
        if day not in days:
            days.append(day)
        day += timedelta(days=1)
    for candidate in days:
        response = _call(
            partial(client.audit, day=candidate, batch_tag=batch_tag),
            federation=federation,
            sleep=sleep,
        )
        if response.status == 200:
            try:
                entries = [AuditEntry.from_json(entry) for entry in response.json()]
            except (ValueError, TypeError, AttributeError):
                return candidate, None
            return candidate, entries
        if response.status not in (404, 410):
            raise _stop(response)
    return requested_day, None


def _valid_for_phones(key: DiagnosisKey, *, own_country: str, now: datetime) -> bool:
    """What our exports may carry (the checks of Immuni's and Germany's clients, and GAEN's)."""
    if len(key.key_data) != 16 or not 1 <= key.rolling_period <= 144:
        return False
    if key.report_type not in PHONE_REPORT_TYPES:
        return False
    if len(key.origin) != 2 or key.origin == own_country:
        return False
    current = int(now.timestamp()) // 600
    oldest = current - settings.KEYS_RETENTION_DAYS * 144
    if key.rolling_start_interval_number > current:
        return False
    if key.rolling_start_interval_number + key.rolling_period <= oldest:
        return False
    level = key.transmission_risk_level
    if not 0 <= level <= 8 and level != TRANSMISSION_RISK_LEVEL_NOT_SET:
        return False
    return dsos.decode(key.days_since_onset_of_symptoms) is not None


def _days_since_known_onset(value: int) -> int | None:
    """What phones may read as days since onset: only the range of a known onset (-14..14).

    The other EFGS ranges count from the submission (2000, 3000, 4000) or within a range of
    possible onset days (n*100): published as days since onset they would tell phones an
    onset nobody knows. Such keys go out without it, and phones weigh them as "missing".
    """
    return value if -dsos.DAYS_RANGE <= value <= dsos.DAYS_RANGE else None


def _received(key: DiagnosisKey, own_country: str) -> ReceivedKey:
    visited = sorted({country for country in key.visited_countries if len(country) == 2})
    level = key.transmission_risk_level
    return ReceivedKey(
        key_data=key.key_data,
        rolling_start_interval_number=key.rolling_start_interval_number,
        rolling_period=key.rolling_period,
        rolling_end_interval_number=key.rolling_start_interval_number + key.rolling_period,
        report_type=key.report_type,
        days_since_onset_of_symptoms=_days_since_known_onset(key.days_since_onset_of_symptoms),
        transmission_risk_level=None if level == TRANSMISSION_RISK_LEVEL_NOT_SET else level,
        origin=key.origin,
        visited_countries="," + ",".join(visited) + "," if visited else "",
        for_national_export=own_country in visited,
    )


def _keep_batch(
    *,
    run: FederationRun,
    federation: Federation,
    client: GatewayClient,
    batch_tag: str,
    next_tag: str,
    requested_day: date,
    body: bytes,
    now: datetime,
    sleep: Callable[[float], None],
) -> None:
    """Verify one downloaded batch and keep, in one transaction, its record and its good keys."""
    try:
        keys = decode_batch(body)
    except BatchFormatError as error:
        keys, chunks = [], []
        day, failure = _tag_day(batch_tag, requested_day), f"not a DiagnosisKeyBatch: {error}"
    else:
        failure = ""
        if keys:
            day, entries = _audit(
                federation=federation,
                client=client,
                batch_tag=batch_tag,
                requested_day=requested_day,
                now=now,
                sleep=sleep,
            )
        else:
            day, entries = _tag_day(batch_tag, requested_day), []
        if entries is None:
            chunks = [
                Chunk(position=0, country="", keys=tuple(keys), entry=None, reason="audit",
                      message="the gateway has no audit entries for this batch")
            ]  # fmt: skip
        else:
            chunks = split_and_verify(
                keys, entries, own_country=federation.country, trust_anchor=federation.trust_anchor
            )

    accepted: dict[tuple[bytes, int], ReceivedKey] = {}
    refused = invalid = 0
    received_by_origin: Counter[str] = Counter()
    invalid_by_origin: Counter[str] = Counter()
    refused_by_origin: Counter[str] = Counter()
    for chunk in chunks:
        if not chunk.verified:
            refused += len(chunk.keys)
            for key in chunk.keys:
                refused_by_origin[key.origin[:2]] += 1
            continue
        for key in chunk.keys:
            if not _valid_for_phones(key, own_country=federation.country, now=now):
                invalid += 1
                invalid_by_origin[key.origin] += 1
                continue
            accepted.setdefault(
                (key.key_data, key.rolling_start_interval_number),
                _received(key, federation.country),
            )
    existing = {
        (bytes(data), start)
        for data, start in ReceivedKey.objects.filter(
            key_data__in=[identity[0] for identity in accepted]
        ).values_list("key_data", "rolling_start_interval_number")
    }
    new_keys = [row for identity, row in accepted.items() if identity not in existing]
    duplicates = len(keys) - refused - invalid - len(new_keys)
    for row in new_keys:
        received_by_origin[row.origin] += 1

    if failure or (chunks and all(not chunk.verified for chunk in chunks)):
        status = InboundBatch.Status.REFUSED
    elif any(not chunk.verified for chunk in chunks):
        status = InboundBatch.Status.PARTLY_REFUSED
    elif not keys:
        status = InboundBatch.Status.EMPTY
    else:
        status = InboundBatch.Status.ACCEPTED

    try:
        _store_batch(
            run=run, batch_tag=batch_tag, day=day, next_tag=next_tag, status=status, keys=keys,
            new_keys=new_keys, refused=refused, invalid=invalid, duplicates=duplicates,
            chunks=chunks, failure=failure, received_by_origin=received_by_origin,
            invalid_by_origin=invalid_by_origin, refused_by_origin=refused_by_origin,
        )  # fmt: skip
    except IntegrityError:
        # Another download run kept this batch meanwhile: nothing of this one is written.
        if not InboundBatch.objects.filter(batch_tag=batch_tag).exists():
            raise
        return
    if refused or failure:
        logger.warning(
            "Federation: batch %s refused in part: %s",
            batch_tag,
            "; ".join(f"{c.country}: {c.reason}" for c in chunks if not c.verified) or failure,
        )


def _store_batch(
    *,
    run: FederationRun,
    batch_tag: str,
    day: date,
    next_tag: str,
    status: str,
    keys: list[DiagnosisKey],
    new_keys: list[ReceivedKey],
    refused: int,
    invalid: int,
    duplicates: int,
    chunks: list[Chunk],
    failure: str,
    received_by_origin: Counter[str],
    invalid_by_origin: Counter[str],
    refused_by_origin: Counter[str],
) -> None:
    """The batch's record, its parts, its keys and the counters, all or nothing."""
    with transaction.atomic():
        record = InboundBatch.objects.create(
            batch_tag=batch_tag,
            batch_date=day,
            next_batch_tag=next_tag,
            status=status,
            run=run,
            keys_received=len(keys),
            keys_accepted=len(new_keys),
            keys_refused=refused,
            keys_invalid=invalid,
            keys_duplicate=duplicates,
        )
        InboundChunk.objects.bulk_create(
            [
                InboundChunk(
                    batch=record,
                    position=chunk.position,
                    country=chunk.country[:2],
                    key_count=len(chunk.keys),
                    uploaded_at=chunk.entry.uploaded_at if chunk.entry else None,
                    signing_thumbprint=chunk.entry.signing_thumbprint[:64] if chunk.entry else "",
                    verified=chunk.verified,
                    reason=chunk.reason,
                    message=chunk.message[:1000],
                )
                for chunk in chunks
            ]
            + (
                [
                    InboundChunk(
                        batch=record,
                        position=0,
                        country="",
                        key_count=0,
                        verified=False,
                        reason="malformed",
                        message=failure[:1000],
                    )
                ]
                if failure
                else []
            )
        )
        ReceivedKey.objects.bulk_create(new_keys, ignore_conflicts=True)
        FederationRun.objects.filter(pk=run.pk).update(
            batches=F("batches") + 1,
            keys_received=F("keys_received") + len(new_keys),
            keys_refused=F("keys_refused") + refused,
            keys_invalid=F("keys_invalid") + invalid,
            heartbeat_at=timezone.now(),
        )
        for origin, amount in received_by_origin.items():
            increment(metrics.KEYS_RECEIVED, bucket=origin, amount=amount)
        for origin, amount in invalid_by_origin.items():
            increment(metrics.KEYS_INVALID, bucket=origin[:16], amount=amount)
        for origin, amount in refused_by_origin.items():
            increment(metrics.KEYS_REFUSED, bucket=origin[:16], amount=amount)
        for chunk in chunks:
            if not chunk.verified:
                increment(metrics.CHUNKS_REFUSED, bucket=chunk.reason[:16])
        if failure:
            increment(metrics.CHUNKS_REFUSED, bucket="malformed")
