"""Periodic housekeeping of patient codes: mark expired ones, forget old ones."""

from __future__ import annotations

from authority.otps import services
from tasks.celery import app


@app.task(time_limit=300, soft_time_limit=240)
def expire_and_purge_codes() -> dict[str, int]:
    """Safe to run twice at once or to retry: each update claims the rows it changes."""
    expired = services.expire_overdue_otps()
    deleted = services.purge_closed_otps()
    return {"expired": expired, "deleted": deleted}
