"""Periodic jobs of the audit trail: signed checkpoints outside the database, a daily check."""

from __future__ import annotations

from authority.audit import checkpoints, verification
from tasks.celery import app


@app.task(time_limit=120, soft_time_limit=100)
def write_checkpoint() -> dict[str, object]:
    """A missed run costs nothing but protection of the newest entries: no retry, the next
    run is AUDIT_CHECKPOINT_MINUTES away."""
    checkpoint = checkpoints.write_checkpoint()
    return {"name": checkpoint.name, "position": checkpoint.position}


@app.task(time_limit=4 * 3600, soft_time_limit=4 * 3600 - 60)
def verify_trail() -> dict[str, object]:
    """The whole chain against the keys and every checkpoint; a finding is logged as an error
    and shown on the audit page."""
    report = verification.verify_trail()
    return {"intact": report.intact, "entries": report.entries, "findings": len(report.findings)}
