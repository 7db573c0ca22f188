"""Federation tasks: thin wrappers around authority.federation's upload and download runs."""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError

from tasks.celery import app

# A run renews nothing: the time limit stops a worker stuck on a gateway that stopped answering.
_TIME_LIMIT = 1800


def _outcome(run: Any) -> str:
    return "off" if run is None else str(run.status)


@app.task(
    bind=True,
    acks_late=True,
    soft_time_limit=_TIME_LIMIT - 60,
    time_limit=_TIME_LIMIT,
    max_retries=4,
)
def upload_keys(
    self: Any,
    trigger: str = "schedule",
    requested_by_id: int | None = None,
    run_id: int | None = None,
) -> str:
    """Share the keys that are due; a run the gateway did not answer is retried with backoff.

    Retrying is safe: a batch whose answer was lost is sent again under the same tag, and the
    gateway's 409 to a tag it has says it was stored (authority/federation/upload.py).
    """
    from authority.federation import upload
    from authority.federation.models import FederationRun

    try:
        run = upload.run_upload(trigger=trigger, requested_by=_user(requested_by_id), run_id=run_id)
    except (OperationalError, InterfaceError) as error:
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error
    if (
        run is not None
        and run.status == FederationRun.Status.FAILED
        and "did not answer" in run.message
    ):
        raise self.retry(countdown=300 * 2**self.request.retries)
    return _outcome(run)


@app.task(
    bind=True,
    acks_late=True,
    soft_time_limit=_TIME_LIMIT - 60,
    time_limit=_TIME_LIMIT,
    max_retries=4,
)
def download_keys(
    self: Any,
    trigger: str = "schedule",
    requested_by_id: int | None = None,
    run_id: int | None = None,
) -> str:
    """Download, verify and keep the batches published since the last run (it resumes there)."""
    from authority.federation import download
    from authority.federation.models import FederationRun

    try:
        run = download.run_download(
            trigger=trigger, requested_by=_user(requested_by_id), run_id=run_id
        )
    except (OperationalError, InterfaceError) as error:
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error
    if (
        run is not None
        and run.status == FederationRun.Status.FAILED
        and "did not answer" in run.message
    ):
        raise self.retry(countdown=300 * 2**self.request.retries)
    return _outcome(run)


@app.task(time_limit=1800)
def apply_retention() -> dict[str, int]:
    """Daily: forget keys past their use, and old run records."""
    from authority.federation import retention

    return retention.apply_retention()


def _user(user_id: int | None) -> Any:
    if user_id is None:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user_id).first()
