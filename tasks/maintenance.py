"""Housekeeping jobs that keep the database small."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone

from tasks.celery import app


@app.task(time_limit=300)
def clear_expired_sessions() -> int:
    """Expired sessions would otherwise stay in the table forever."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
