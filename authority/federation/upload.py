"""Upload to the gateway: our shareable keys in signed batches, each key stored there exactly once.

Why a key is shared exactly once (docs/federation.md has the whole argument):
- a key belongs to at most one batch at a time (`OutboundKey.batch`, claimed in one
  transaction), and a batch's tag and signature are written before its first request;
- every request for a batch sends the same bytes under the same tag, and the gateway
  stores a batch all or nothing and answers 409 to a tag it still holds: so a 409 to a
  batch we sent before means "stored". The 409 is not its first check, though: version
  (400/406), key validation (400) and size (413) come before it, so a batch stored by an
  earlier attempt can get a 400 once one of its keys has aged out of the validator's window;
- the gateway holds stored keys, and with them its tags, only 2 to 3 days (its nightly
  clean-up). So when an earlier attempt may have been stored (its answer was lost), the
  gateway's audit settles it (settlement.py: our signature among the uploads it lists)
  before the batch is sent again an hour or more later, and after a 400 to a re-send; and
  once the gateway has forgotten the day of that attempt, the batch is held for an
  operator instead of being sent again blindly;
- keys leave a batch for another tag only when the gateway said it kept nothing: a 207
  (rolled back; the duplicates it names are already there and are not sent again), a 400
  (when no earlier attempt may have been stored, or the audit says none was), a 413, or a
  409 to the very first request of a tag (someone else's tag). An unknown outcome
  (timeout, lost connection, 5xx, a worker that died) keeps the batch and its tag for the
  next try.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from authority.federation import configuration, metrics, runs, settlement
from authority.federation.client import GatewayClient, GatewayResponse, GatewayUnreachable
from authority.federation.configuration import Federation
from authority.federation.models import FederationRun, OutboundBatch, OutboundKey
from authority.formats.efgs.batch import DiagnosisKey, batch_signing_bytes, encode_batch
from authority.formats.efgs.signing import sign_batch
from authority.statistics.services import increment

if TYPE_CHECKING:
    from authority.accounts.models import User

logger = logging.getLogger(__name__)

# A batch being sent is held by its worker this long; a worker that died frees it after.
LEASE = timedelta(minutes=10)
# A run gives up re-tagging after this many batches (a gateway that keeps answering 207).
MAX_BATCHES_PER_RUN = 200


# The gateway's uploader columns: varchar(64) for the tag, varchar(8000) for the signature
# (db/changelog v000, v003). A longer value fails every key's insert, which the gateway
# answers as a 207 of 409s: "already there", although nothing was kept.
BATCH_TAG_COLUMN = 64
BATCH_SIGNATURE_COLUMN = 8000


class UploadStopped(Exception):
    """The gateway refused us as a client (403, 406, 415...): nothing more to try in this run."""


def _gateway_window_start(now: datetime) -> int:
    """The oldest rolling start the gateway accepts: midnight UTC 15 days ago (its validator),
    with a day's margin so that a key does not age out between the claim and the upload."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - timedelta(days=14)).timestamp()) // 600


def new_batch_tag(country: str) -> str:
    """Unique among every country's tags (the gateway's 409 is global): country, then 128 random bits."""
    return f"{country}-{secrets.token_hex(16)}"


def claim_due_keys(*, federation: Federation, run: FederationRun | None, now: datetime) -> int:
    """Put the keys that are due into new batches of at most FEDERATION_UPLOAD_MAX_KEYS; how many.

    Nothing is claimed while fewer than FEDERATION_UPLOAD_MIN_KEYS are due, so that no batch
    is one patient's keys. The keys are spread evenly over the batches, in key order (random
    with respect to uploads).
    """
    from django.conf import settings

    skip_locked = connection.features.has_select_for_update_skip_locked
    with transaction.atomic():
        due = list(
            OutboundKey.objects.select_for_update(skip_locked=skip_locked)
            .filter(
                batch__isnull=True,
                shareable_from__lte=now,
                rolling_start_interval_number__gte=_gateway_window_start(now),
            )
            .order_by("key_data", "rolling_start_interval_number")
            .values_list("id", flat=True)
        )
        if len(due) < settings.FEDERATION_UPLOAD_MIN_KEYS:
            return 0
        count = math.ceil(len(due) / settings.FEDERATION_UPLOAD_MAX_KEYS)
        claimed = 0
        for index in range(count):
            part = due[index * len(due) // count : (index + 1) * len(due) // count]
            batch = OutboundBatch.objects.create(
                batch_tag=new_batch_tag(federation.country), run=run
            )
            taken = OutboundKey.objects.filter(id__in=part, batch__isnull=True).update(batch=batch)
            OutboundBatch.objects.filter(pk=batch.pk).update(key_count=taken)
            claimed += taken
        return claimed


def _take_lease(batch_id: int, now: datetime) -> bool:
    from django.db.models import Q

    return (
        OutboundBatch.objects.filter(pk=batch_id, status=OutboundBatch.Status.PENDING)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + LEASE)
        == 1
    )


def _keys_of(batch: OutboundBatch, country: str) -> list[tuple[OutboundKey, DiagnosisKey]]:
    """The batch's keys in the order they travel (by key bytes: nothing of their uploads)."""
    rows = batch.keys.order_by("key_data", "rolling_start_interval_number")
    return [
        (
            row,
            DiagnosisKey(
                key_data=bytes(row.key_data),
                rolling_start_interval_number=row.rolling_start_interval_number,
                rolling_period=row.rolling_period,
                transmission_risk_level=row.transmission_risk_level,
                visited_countries=tuple(row.visited_countries.split(",")),
                origin=country,
                report_type=row.report_type,
                days_since_onset_of_symptoms=row.days_since_onset_of_symptoms,
            ),
        )
        for row in rows
    ]


def _finish(
    batch: OutboundBatch, status: str, response: GatewayResponse | None, message: str
) -> None:
    OutboundBatch.objects.filter(pk=batch.pk).update(
        status=status,
        last_status=response.status if response else None,
        message=message,
        finished_at=timezone.now(),
        leased_until=None,
    )


def _count_shared(batch: OutboundBatch, run: FederationRun) -> int:
    shared = batch.keys.count()
    if not shared:
        return 0
    increment(metrics.KEYS_SHARED, amount=shared)
    per_country: Counter[str] = Counter()
    for countries in batch.keys.values_list("visited_countries", flat=True):
        per_country.update(countries.split(","))
    for country, amount in per_country.items():
        increment(metrics.KEYS_SHARED_WITH, bucket=country, amount=amount)
    FederationRun.objects.filter(pk=run.pk).update(keys_shared=F("keys_shared") + shared)
    return shared


def _retag(keys: list[OutboundKey], *, federation: Federation, run: FederationRun) -> OutboundBatch:
    """A new batch (new tag, new signature) for keys the gateway did not keep."""
    batch = OutboundBatch.objects.create(
        batch_tag=new_batch_tag(federation.country), run=run, key_count=len(keys)
    )
    OutboundKey.objects.filter(id__in=[key.id for key in keys]).update(batch=batch)
    return batch


def send_batch(
    batch: OutboundBatch,
    *,
    federation: Federation,
    client: GatewayClient,
    run: FederationRun,
    sleep: Callable[[float], None] = time.sleep,
) -> list[OutboundBatch]:
    """Send one batch until the gateway's answer is known; the batches that replace it, if any."""
    pairs = _keys_of(batch, federation.country)
    if not pairs:
        _finish(batch, OutboundBatch.Status.REFUSED, None, "no keys left")
        return []
    efgs_keys = [key for _row, key in pairs]
    checked = False
    if batch.first_sent_at is not None:
        # An earlier request may have been stored: learn whether it was before sending again.
        if settlement.forgotten_by_gateway(batch.first_sent_at, now=timezone.now()):
            _hold(batch, run)
            return []
        if timezone.now() - batch.first_sent_at >= settlement.BATCHING_DELAY:
            if _settle(batch, federation=federation, client=client, run=run, sleep=sleep):
                return []
            checked = True
    if not batch.batch_signature:
        batch.batch_signature = sign_batch(
            batch_signing_bytes(efgs_keys),
            certificate=federation.signing_certificate,
            private_key=federation.signing_key,
        )
        OutboundBatch.objects.filter(pk=batch.pk).update(batch_signature=batch.batch_signature)
    _check_columns(batch)
    body = encode_batch(efgs_keys)
    response = None
    earlier_may_be_stored = batch.first_sent_at is not None
    marked_now = False
    for attempt in range(federation.attempts):
        # Counted before the request: a 409 to a tag sent before means "stored".
        OutboundBatch.objects.filter(pk=batch.pk).update(attempts=F("attempts") + 1)
        if not marked_now and not earlier_may_be_stored:
            marked_now = (
                OutboundBatch.objects.filter(pk=batch.pk, first_sent_at__isnull=True).update(
                    first_sent_at=timezone.now()
                )
                == 1
            )
        elif marked_now:
            earlier_may_be_stored = True  # the previous request of this loop had no answer
        try:
            response = client.upload(
                batch_tag=batch.batch_tag, batch_signature=batch.batch_signature, body=body
            )
            break
        except GatewayUnreachable as error:
            logger.warning("Federation upload %s: %s", batch.batch_tag, error)
            OutboundBatch.objects.filter(pk=batch.pk).update(message=str(error)[:500])
            if attempt + 1 < federation.attempts:
                sleep(federation.backoff_seconds * 2**attempt)
    if response is None:
        # Unknown outcome: the batch keeps its tag and keys for the next run.
        OutboundBatch.objects.filter(pk=batch.pk).update(leased_until=None)
        raise GatewayUnreachable(f"no answer for batch {batch.batch_tag}")
    if response.status in (403, 406, 415) and not earlier_may_be_stored:
        # A refusal of us as a client: nothing of this batch is on the gateway.
        OutboundBatch.objects.filter(pk=batch.pk).update(first_sent_at=None)
    return _handle_answer(
        batch,
        pairs,
        response,
        federation=federation,
        run=run,
        earlier_may_be_stored=earlier_may_be_stored and not checked,
    )


def _check_columns(batch: OutboundBatch) -> None:
    """Refuse to send what the gateway's columns cannot hold (it would answer "already there")."""
    if len(batch.batch_tag) > BATCH_TAG_COLUMN:
        OutboundBatch.objects.filter(pk=batch.pk).update(leased_until=None)
        raise UploadStopped(
            f"the batch tag {batch.batch_tag} is longer than the gateway's {BATCH_TAG_COLUMN} "
            "characters"
        )
    if len(batch.batch_signature) > BATCH_SIGNATURE_COLUMN:
        OutboundBatch.objects.filter(pk=batch.pk).update(leased_until=None)
        raise UploadStopped(
            f"the batch signature is {len(batch.batch_signature)} characters and the gateway "
            f"keeps at most {BATCH_SIGNATURE_COLUMN}: sign with a smaller certificate "
            "(FEDERATION_SIGNING_CERT_FILE)"
        )


def _settle(
    batch: OutboundBatch,
    *,
    federation: Federation,
    client: GatewayClient,
    run: FederationRun,
    sleep: Callable[[float], None],
) -> bool:
    """Look for the batch in the gateway's audit; True when that settled it (shared or held)."""
    try:
        found = settlement.find_in_audit(
            batch, federation=federation, client=client, now=timezone.now(), sleep=sleep
        )
    except settlement.Unanswered as error:
        OutboundBatch.objects.filter(pk=batch.pk).update(leased_until=None)
        raise UploadStopped(
            f"whether the gateway stored batch {batch.batch_tag} cannot be learnt now: {error}"
        ) from error
    except GatewayUnreachable:
        OutboundBatch.objects.filter(pk=batch.pk).update(leased_until=None)
        raise
    if found.outcome is settlement.Outcome.FORGOTTEN:
        _hold(batch, run)
        return True
    if found.outcome is settlement.Outcome.STORED:
        with transaction.atomic():
            _finish(
                batch,
                OutboundBatch.Status.SHARED,
                None,
                f"stored by an earlier attempt whose answer was lost (in the gateway's audit "
                f"of its batch {found.gateway_batch})",
            )
            _count_shared(batch, run)
        return True
    return False


def _hold(batch: OutboundBatch, run: FederationRun) -> None:
    """Keep a batch the gateway may have stored and no longer remembers: an operator decides."""
    OutboundBatch.objects.filter(pk=batch.pk).update(
        status=OutboundBatch.Status.HELD,
        held_by=run,
        leased_until=None,
        message=(
            "an earlier attempt may have been stored, and the gateway no longer keeps that day: "
            "sent again, its keys could reach the other countries twice"
        ),
    )
    increment(metrics.UPLOADS_HELD)
    logger.warning("Federation upload %s held for an operator", batch.batch_tag)


def _handle_answer(
    batch: OutboundBatch,
    pairs: list[tuple[OutboundKey, DiagnosisKey]],
    response: GatewayResponse,
    *,
    federation: Federation,
    run: FederationRun,
    earlier_may_be_stored: bool = False,
) -> list[OutboundBatch]:
    status = response.status
    rows = [row for row, _key in pairs]
    if status == 201:
        with transaction.atomic():
            _finish(batch, OutboundBatch.Status.SHARED, response, "")
            _count_shared(batch, run)
        return []
    if status == 409:
        attempts = OutboundBatch.objects.values_list("attempts", flat=True).get(pk=batch.pk)
        if attempts > 1:
            with transaction.atomic():
                _finish(
                    batch,
                    OutboundBatch.Status.SHARED,
                    response,
                    "stored by an earlier attempt whose answer was lost",
                )
                _count_shared(batch, run)
            return []
        # The first request ever made with this tag: the tag is someone else's.
        with transaction.atomic():
            replacement = _retag(rows, federation=federation, run=run)
            _finish(batch, OutboundBatch.Status.REFUSED, response, "batch tag already in use")
        return [replacement]
    if status == 207:
        try:
            duplicates = {int(index) for index in response.json().get("409", [])}
        except (ValueError, AttributeError, TypeError):
            duplicates = set()
        with transaction.atomic():
            kept_back = [row for index, row in enumerate(rows) if index not in duplicates]
            replacements = [_retag(kept_back, federation=federation, run=run)] if kept_back else []
            _finish(
                batch,
                OutboundBatch.Status.ALREADY_SHARED,
                response,
                f"{len(rows) - len(kept_back)} keys already on the gateway; "
                f"{len(kept_back)} sent again under a new tag",
            )
            OutboundBatch.objects.filter(pk=batch.pk).update(key_count=len(rows) - len(kept_back))
        increment(metrics.UPLOADS_REFUSED, bucket="207")
        return replacements
    if status == 413:
        with transaction.atomic():
            half = len(rows) // 2
            replacements = [
                _retag(part, federation=federation, run=run)
                for part in (rows[:half], rows[half:])
                if part
            ]
            _finish(batch, OutboundBatch.Status.REFUSED, response, "too many keys: split in two")
        increment(metrics.UPLOADS_REFUSED, bucket="413")
        return replacements
    if status == 400 and earlier_may_be_stored:
        # The validator answers before the tag check: an earlier attempt may be stored all
        # the same. The audit settles it once the gateway has batched that attempt.
        OutboundBatch.objects.filter(pk=batch.pk).update(
            last_status=status,
            message=(
                f"{response.message or 'refused by the gateway'}; an earlier attempt may have "
                "been stored: the gateway's audit is checked before the batch is sent again"
            ),
            leased_until=None,
        )
        increment(metrics.UPLOADS_REFUSED, bucket="400")
        return []
    if status == 400:
        # Nothing kept: the keys go back to the queue, for a run after the cause is fixed.
        with transaction.atomic():
            OutboundKey.objects.filter(batch=batch).update(batch=None)
            _finish(
                batch,
                OutboundBatch.Status.REFUSED,
                response,
                response.message or "refused by the gateway",
            )
        increment(metrics.UPLOADS_REFUSED, bucket="400")
        return []
    # 403 (our certificate), 406/415 (protocol version) and anything else: nothing was kept,
    # and nothing will be until someone fixes the cause. The batch waits with its tag.
    OutboundBatch.objects.filter(pk=batch.pk).update(
        last_status=status, message=response.message or f"HTTP {status}", leased_until=None
    )
    increment(metrics.UPLOADS_REFUSED, bucket=str(status))
    raise UploadStopped(
        {
            403: "the gateway does not accept our client certificate",
            406: "the gateway does not accept our protocol version",
            415: "the gateway does not accept our content type",
        }.get(status, f"the gateway answered {status}")
        + (f": {response.message}" if response.message else "")
    )


def run_upload(
    *,
    trigger: str = FederationRun.Trigger.SCHEDULE,
    requested_by: User | None = None,
    run_id: int | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> FederationRun | None:
    """One upload run: claim what is due, then send every pending batch. None when federation is off."""
    if not configuration.enabled():
        runs.skip_queued(run_id=run_id, message="federation is off")
        return None
    run = runs.start_run(
        kind=FederationRun.Kind.UPLOAD, trigger=trigger, requested_by=requested_by, run_id=run_id
    )
    try:
        federation = configuration.load()
    except configuration.FederationMisconfigured as error:
        return _end(run, FederationRun.Status.FAILED, str(error))
    moment = now or timezone.now()
    client = GatewayClient(federation)
    try:
        claim_due_keys(federation=federation, run=run, now=moment)
        queue = list(
            OutboundBatch.objects.filter(status=OutboundBatch.Status.PENDING).order_by("id")
        )
        sent = 0
        while queue and sent < MAX_BATCHES_PER_RUN:
            batch = queue.pop(0)
            if not _take_lease(batch.pk, timezone.now()):
                continue
            batch.refresh_from_db()
            queue.extend(
                send_batch(batch, federation=federation, client=client, run=run, sleep=sleep)
            )
            sent += 1
            FederationRun.objects.filter(pk=run.pk).update(
                batches=sent, heartbeat_at=timezone.now()
            )
    except GatewayUnreachable as error:
        return _end(run, FederationRun.Status.FAILED, f"the gateway did not answer: {error}")
    except UploadStopped as error:
        return _end(run, FederationRun.Status.FAILED, str(error))
    except Exception as error:
        # Recorded before the task sees it (and may retry, in a new run): never left "running".
        _end(run, FederationRun.Status.FAILED, f"{type(error).__name__}: {error}")
        raise
    finally:
        client.close()
    return _end(run, FederationRun.Status.SUCCEEDED, "")


def _end(run: FederationRun, status: str, message: str) -> FederationRun:
    held = tuple(
        OutboundBatch.objects.filter(status=OutboundBatch.Status.HELD, held_by=run)
        .order_by("id")
        .values_list("batch_tag", flat=True)
    )
    if held:
        note = f"{len(held)} batch(es) held for an operator: {', '.join(held)}"
        message = f"{message}; {note}" if message else note
    return runs.finish_run(run=run, status=status, message=message, held_batches=held)
