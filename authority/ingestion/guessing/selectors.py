"""Reads of the guessing state for operators: national figures, never which networks."""

from __future__ import annotations

from django.utils import timezone

from authority.ingestion.guessing.ledger import Activity, ledger


def guessing_activity() -> Activity:
    """Failed lookups nationally in the last 10 minutes, networks throttled now, the guard."""
    return ledger().activity(now=timezone.now().timestamp())


def guessing_under_way() -> Activity | None:
    """The activity while someone is guessing codes (the guard is on or a network has used up
    its budget), None otherwise."""
    activity = guessing_activity()
    if activity.guard_active or activity.throttled_networks > 0:
        return activity
    return None
