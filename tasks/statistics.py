"""Periodic flush of the buffered statistics (authority.statistics.buffer) to the database."""

from __future__ import annotations

from django.conf import settings

from authority.statistics import buffer
from tasks.celery import app


@app.task(time_limit=300, soft_time_limit=240)
def flush_counters() -> dict[str, int]:
    """Safe to run twice at once or after a crash: a flush is applied exactly once."""
    if not settings.STATISTICS_REDIS_URL:
        return {"flushes": 0, "counters": 0, "discarded": 0}
    # Also when buffering was just switched off: what is still in Redis must reach the database.
    report = buffer.flush()
    return {
        "flushes": len(report.flushes),
        "counters": report.counters,
        "discarded": report.discarded,
    }
