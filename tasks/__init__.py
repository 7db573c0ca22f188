"""The Celery application and the task modules (thin: they call services)."""

from tasks.celery import app

__all__ = ["app"]
