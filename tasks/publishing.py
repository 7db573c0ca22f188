"""Publication tasks: thin wrappers that take ids and call the keys' services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError

from authority.keys.models import PublicationRun
from authority.keys.services import retention
from authority.keys.services.publication import (
    PublicationAlreadyRunning,
    PublicationBusy,
    PublicationSuperseded,
    request_publication,
    run_publication,
)
from tasks.celery import app

# The publication renews its lease as it goes; the time limit only stops a stuck worker.
_TIME_LIMIT = settings.PUBLICATION_TIME_LIMIT_SECONDS


@app.task(
    bind=True,
    acks_late=True,
    soft_time_limit=_TIME_LIMIT - 60,
    time_limit=_TIME_LIMIT,
    max_retries=3,
)
def publish_keys(self: Any, run_id: int) -> str:
    """Run one requested publication; transient failures are retried, the run stays exactly-once."""
    try:
        run = run_publication(run_id=run_id, worker=self.request.hostname or "")
    except PublicationBusy as busy:
        # A duplicate delivery while the first is alive: look again once its lease may be gone.
        raise self.retry(exc=busy, countdown=settings.PUBLICATION_LEASE_SECONDS) from busy
    except PublicationSuperseded:
        return "superseded"
    except (OSError, OperationalError, InterfaceError) as error:
        raise self.retry(exc=error, countdown=30 * (self.request.retries + 1)) from error
    return run.status


@app.task(bind=True, soft_time_limit=_TIME_LIMIT - 60, time_limit=_TIME_LIMIT)
def publish_on_schedule(self: Any) -> str:
    """The periodic publication; does nothing while another one is queued or running."""
    try:
        run = request_publication(requested_by=None, trigger=PublicationRun.Trigger.SCHEDULE)
    except PublicationAlreadyRunning:
        return "already running"
    try:
        return run_publication(run_id=run.pk, worker=self.request.hostname or "").status
    except PublicationSuperseded:
        return "superseded"


@app.task(time_limit=1800)
def apply_retention() -> dict[str, int]:
    """Daily: delete expired keys, take old batches out of the index, delete their files."""
    report = retention.apply_retention()
    return {
        "keys_deleted": report.keys_deleted,
        "batches_retired": report.batches_retired,
        "files_deleted": report.files_deleted,
    }
