"""django-axes hooks: lock out per account and never look at the client's address."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def no_client_address(request: HttpRequest) -> None:
    """DESIGN.md 3.3: no IP address is stored, not even in the lockout counters."""
    return None


def lockout_response(
    request: HttpRequest, original_response: object, credentials: object
) -> HttpResponse:
    """A readable page (HTTP 429) that says how long the lock lasts and who can lift it."""
    minutes = (
        int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        if settings.AXES_COOLOFF_TIME
        else None
    )
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "accounts/locked_out.html", context, status=429)
