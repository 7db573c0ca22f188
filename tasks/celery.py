"""The Celery application, configured from Django's settings (CELERY_* names)."""

from __future__ import annotations

import os
from pathlib import Path

from celery.schedules import crontab

from authority.operations.celery_logging import Celery

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


def _publication_schedule() -> crontab:
    from django.conf import settings

    return crontab.from_string(settings.PUBLICATION_SCHEDULE)


# Key publication (authority/keys): on PUBLICATION_SCHEDULE (hourly by default), retention daily.
app.conf.include.append("tasks.publishing")
app.conf.beat_schedule.update(
    {
        "publish-keys": {
            "task": "tasks.publishing.publish_on_schedule",
            "schedule": _publication_schedule(),
        },
        "key-retention": {
            "task": "tasks.publishing.apply_retention",
            "schedule": crontab(hour=3, minute=47),
        },
    }
)


def _statistics_flush_seconds() -> float:
    from django.conf import settings

    return float(settings.STATISTICS_FLUSH_SECONDS)


# Buffered statistics (authority/statistics/buffer.py): applied to the database periodically.
app.conf.include.append("tasks.statistics")
app.conf.beat_schedule["flush-statistics"] = {
    "task": "tasks.statistics.flush_counters",
    "schedule": _statistics_flush_seconds(),
}

# The iOS apps' analytics tokens (authority/ingestion/analytics): on demand, no schedule.
app.conf.include.append("tasks.analytics")

# E-mail to staff (authority/accounts/services/mail.py, docs/email.md): on demand.
app.conf.include.append("tasks.mail")


def _federation_schedule(name: str) -> crontab:
    from django.conf import settings

    return crontab.from_string(getattr(settings, name))


# Federation with the European gateway (authority/federation): upload and download on their
# schedules (each does nothing while FEDERATION_GATEWAY_URL is unset), retention daily.
app.conf.include.append("tasks.federation")
app.conf.beat_schedule.update(
    {
        "federation-upload": {
            "task": "tasks.federation.upload_keys",
            "schedule": _federation_schedule("FEDERATION_UPLOAD_SCHEDULE"),
        },
        "federation-download": {
            "task": "tasks.federation.download_keys",
            "schedule": _federation_schedule("FEDERATION_DOWNLOAD_SCHEDULE"),
        },
        "federation-retention": {
            "task": "tasks.federation.apply_retention",
            "schedule": crontab(hour=3, minute=57),
        },
    }
)


def _audit_checkpoint_seconds() -> float:
    from django.conf import settings

    return float(settings.AUDIT_CHECKPOINT_MINUTES * 60)


# The audit trail (authority/audit): signed checkpoints of its head, a full check every night.
app.conf.include.append("tasks.audit")
app.conf.beat_schedule.update(
    {
        "audit-checkpoint": {
            "task": "tasks.audit.write_checkpoint",
            "schedule": _audit_checkpoint_seconds(),
        },
        "verify-audit-trail": {
            "task": "tasks.audit.verify_trail",
            "schedule": crontab(hour=4, minute=27),
        },
    }
)


def ensure_broker_folders() -> None:
    """The embedded filesystem broker needs its folders before a worker or client starts."""
    from django.conf import settings

    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)
