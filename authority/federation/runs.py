"""Federation runs from request to end: "Sync now" queues them, a task starts them, each one ends in the audit trail.

The upload and download (upload.py, download.py) do the work; this module keeps the record
operators watch: a run is queued by the page (or created by the schedule, a command or the
gateway's notification when it starts), running with a heartbeat and figures that grow as
it goes, then succeeded, failed or skipped, with one audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from authority.audit.models import Action
from authority.audit.services import record_event
from authority.federation import configuration
from authority.federation.models import FederationRun

if TYPE_CHECKING:
    from authority.accounts.models import User

# A queued run no worker took within this time never will (the worker was down).
QUEUE_TIMEOUT = timedelta(minutes=15)
# A running run without a sign of life for this long lost its worker (the tasks' time limit).
SILENCE_TIMEOUT = timedelta(minutes=30)


# Who started a run nobody requested, as the audit trail names them.
_UNATTENDED: dict[str, str] = {
    FederationRun.Trigger.SCHEDULE: "scheduler",
    FederationRun.Trigger.CALLBACK: "gateway notification",
    FederationRun.Trigger.COMMAND: "command",
}


class FederationUnavailable(Exception):
    """Federation is off or misconfigured: nothing to sync (the message says why)."""


class SyncAlreadyRunning(Exception):
    """A run is queued or working; `runs` are those."""

    def __init__(self, runs: list[FederationRun]) -> None:
        super().__init__("A federation run is in progress")
        self.runs = runs


@dataclass(frozen=True)
class Progress:
    """What the page polls while a run works."""

    id: int
    kind: str
    status: str
    status_label: str
    finished: bool
    batches: int
    keys_shared: int
    keys_received: int
    keys_refused: int
    keys_invalid: int
    heartbeat_at: str
    message: str


def active_runs(now: datetime | None = None) -> QuerySet[FederationRun]:
    """Runs queued recently, or running with a recent sign of life, oldest first."""
    now = now or timezone.now()
    return FederationRun.objects.filter(
        Q(status=FederationRun.Status.QUEUED, started_at__gte=now - QUEUE_TIMEOUT)
        | Q(status=FederationRun.Status.RUNNING, heartbeat_at__gte=now - SILENCE_TIMEOUT)
    ).order_by("id")


def close_abandoned_runs(now: datetime | None = None) -> int:
    """Runs that will never finish, failed with the reason (and audited); how many."""
    now = now or timezone.now()
    abandoned = list(
        FederationRun.objects.filter(
            Q(status=FederationRun.Status.QUEUED, started_at__lt=now - QUEUE_TIMEOUT)
            | Q(status=FederationRun.Status.RUNNING, heartbeat_at__lt=now - SILENCE_TIMEOUT)
        )
    )
    for run in abandoned:
        message = (
            "never started: no Celery worker took the task"
            if run.status == FederationRun.Status.QUEUED
            else "interrupted: its worker stopped; the next run takes over"
        )
        finish_run(run=run, status=FederationRun.Status.FAILED, message=message)
    return len(abandoned)


def request_sync(
    *, requested_by: User, enqueue: Callable[[FederationRun], object]
) -> list[FederationRun]:
    """ "Sync now": queue an upload run and a download run; once committed, `enqueue(run)`
    hands each to a worker (the page passes the Celery tasks: tasks import services, never
    the other way round). Raises FederationUnavailable when there is nothing to sync with,
    SyncAlreadyRunning while a run is queued or working."""
    if not configuration.enabled():
        raise FederationUnavailable("federation is off: FEDERATION_GATEWAY_URL is not set")
    try:
        configuration.load()
    except configuration.FederationMisconfigured as error:
        raise FederationUnavailable(str(error)) from error
    with transaction.atomic():
        now = timezone.now()
        close_abandoned_runs(now)
        running = list(active_runs(now))
        if running:
            raise SyncAlreadyRunning(running)
        runs = [
            FederationRun.objects.create(
                kind=kind,
                trigger=FederationRun.Trigger.MANUAL,
                status=FederationRun.Status.QUEUED,
                requested_by=requested_by,
            )
            for kind in (FederationRun.Kind.UPLOAD, FederationRun.Kind.DOWNLOAD)
        ]
        record_event(
            action=Action.FEDERATION_SYNC_REQUESTED,
            actor=requested_by,
            target="federation runs " + ", ".join(str(run.pk) for run in runs),
            details={"runs": [run.pk for run in runs]},
        )
        for run in runs:
            transaction.on_commit(lambda run=run: enqueue(run))  # type: ignore[misc]
    return runs


def download_on_notification(*, enqueue: Callable[[FederationRun], object]) -> FederationRun | None:
    """The gateway announced a new batch: queue a download run, unless one is queued already
    or one was queued or started within FEDERATION_CALLBACK_MIN_INTERVAL_SECONDS (a
    notification triggers no more than a scheduled download could). The queued run, or None."""
    now = timezone.now()
    quiet = now - timedelta(seconds=settings.FEDERATION_CALLBACK_MIN_INTERVAL_SECONDS)
    with transaction.atomic():
        downloads = FederationRun.objects.filter(kind=FederationRun.Kind.DOWNLOAD)
        if downloads.filter(
            Q(status=FederationRun.Status.QUEUED, started_at__gte=now - QUEUE_TIMEOUT)
            | Q(started_at__gte=quiet)
        ).exists():
            return None
        run = FederationRun.objects.create(
            kind=FederationRun.Kind.DOWNLOAD,
            trigger=FederationRun.Trigger.CALLBACK,
            status=FederationRun.Status.QUEUED,
        )
        transaction.on_commit(lambda: enqueue(run))
    return run


def start_run(
    *, kind: str, trigger: str, requested_by: User | None = None, run_id: int | None = None
) -> FederationRun:
    """The run a task works on: the queued one it was given, or a new one (on a schedule, a
    command, a notification, or a task delivered again after its run was closed: the work is
    safe to repeat)."""
    now = timezone.now()
    close_abandoned_runs(now)
    if run_id is not None:
        taken = FederationRun.objects.filter(
            pk=run_id, kind=kind, status=FederationRun.Status.QUEUED
        ).update(status=FederationRun.Status.RUNNING, started_at=now, heartbeat_at=now)
        if taken:
            return FederationRun.objects.get(pk=run_id)
        previous = FederationRun.objects.filter(pk=run_id).first()
        if previous is not None:
            trigger, requested_by = previous.trigger, previous.requested_by
    return FederationRun.objects.create(
        kind=kind,
        trigger=trigger,
        requested_by=requested_by,
        status=FederationRun.Status.RUNNING,
        heartbeat_at=now,
    )


def skip_queued(*, run_id: int | None, message: str) -> None:
    """A queued run that finds the federation switched off meanwhile: skipped."""
    if run_id is None:
        return
    run = FederationRun.objects.filter(pk=run_id, status=FederationRun.Status.QUEUED).first()
    if run is not None:
        finish_run(run=run, status=FederationRun.Status.SKIPPED, message=message)


def finish_run(
    *, run: FederationRun, status: str, message: str, held_batches: tuple[str, ...] = ()
) -> FederationRun:
    """Record the end of a run and its audit entry; the run as stored.

    `held_batches`: the tags of our batches this run held for an operator (upload.py),
    named in the audit entry so that the decision taken on them can be traced.
    """
    FederationRun.objects.filter(pk=run.pk).update(
        status=status, message=message[:2000], finished_at=timezone.now()
    )
    run.refresh_from_db()
    record_event(
        action=Action.FEDERATION_RUN_FINISHED,
        actor=run.requested_by,
        actor_username="" if run.requested_by_id else _UNATTENDED.get(run.trigger, run.trigger),
        target=f"federation {run.kind} run {run.pk}",
        details={
            "run": run.pk,
            "kind": run.kind,
            "trigger": run.trigger,
            "outcome": run.status,
            "batches": run.batches,
            "keys_shared": run.keys_shared,
            "keys_received": run.keys_received,
            "keys_refused": run.keys_refused,
            "keys_invalid": run.keys_invalid,
            "message": run.message[:300],
            **({"held_batches": list(held_batches)} if held_batches else {}),
        },
    )
    return run


def progress(run: FederationRun) -> Progress:
    return Progress(
        id=run.pk,
        kind=run.kind,
        status=run.status,
        status_label=str(run.get_status_display()),
        finished=run.status not in (FederationRun.Status.QUEUED, FederationRun.Status.RUNNING),
        batches=run.batches,
        keys_shared=run.keys_shared,
        keys_received=run.keys_received,
        keys_refused=run.keys_refused,
        keys_invalid=run.keys_invalid,
        heartbeat_at=run.heartbeat_at.isoformat() if run.heartbeat_at else "",
        message=run.message,
    )
