"""The Celery application, configured from Django's settings (CELERY_* names)."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")

app = Celery("authority")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each feature lists its task module here and its periodic jobs in the schedule below.
app.conf.include = ["tasks.maintenance", "tasks.otps"]
app.conf.beat_schedule = {
    "clear-expired-sessions": {
        "task": "tasks.maintenance.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
    "expire-and-purge-codes": {
        "task": "tasks.otps.expire_and_purge_codes",
        "schedule": crontab(minute="*/5"),
    },
}


def ensure_broker_folders() -> None:
    """The embedded filesystem broker needs its folders before a worker or client starts."""
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
