"""Housekeeping jobs that keep the database small."""

from __future__ import annotations

from django.core.management import call_command

from tasks.celery import app


@app.task(time_limit=300)
def clear_expired_sessions() -> None:
    """Expired sessions would otherwise stay in the table forever: Django's own command, which
    knows the configured session engine."""
    call_command("clearsessions")
