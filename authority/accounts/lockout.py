"""Lockout after wrong passwords: django-axes' hooks (per account, never the client's address),
and our record of each lockout (when it ends), which the People pages show and which makes
one notice per lockout.

django-axes counts failures in the cache under the username and, once the limit is reached,
refuses every attempt for AXES_COOLOFF_TIME; it sends `user_locked_out` at the attempt that
locks and again at every attempt it refuses. The record below is written once, at the first
signal, in the same cache and for the same time: the later signals find it there.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import salted_hmac

_KEY_SALT = "authority.accounts.lockout"


def no_client_address(request: HttpRequest) -> None:
    """DESIGN.md 3.3: no IP address is stored, not even in the lockout counters."""
    return None


def lockout_response(
    request: HttpRequest, original_response: object, credentials: object
) -> HttpResponse:
    """A readable page (HTTP 429) that says how long the lock lasts and who can lift it."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "accounts/locked_out.html", context, status=429)


def _key(username: str) -> str:
    # A keyed hash, not the name: what someone typed as a username may be their password.
    digest = salted_hmac(_KEY_SALT, username, algorithm="sha256").hexdigest()
    return f"accounts.lockout:{digest}"


def start_lockout(username: str) -> datetime | None:
    """When a lockout that starts now ends; None if this username's lockout was already
    recorded (django-axes signals every refused attempt of a lockout, not only its start)."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    until = timezone.now() + settings.AXES_COOLOFF_TIME
    if cache.add(_key(username), until.timestamp(), timeout=seconds):
        return until
    return None


def locked_until(username: str) -> datetime | None:
    """When this account's lockout ends, if it is locked out now."""
    return locked_until_many([username]).get(username)


def locked_until_many(usernames: Iterable[str]) -> dict[str, datetime]:
    """The accounts among these that are locked out now, with when each lockout ends."""
    keys = {_key(name): name for name in usernames}
    now = timezone.now()
    found = {}
    for key, timestamp in cache.get_many(list(keys)).items():
        until = datetime.fromtimestamp(timestamp, tz=timezone.get_current_timezone())
        if until > now:
            found[keys[key]] = until
    return found


def end_lockout(username: str) -> None:
    """Forget the record (django-axes' own counters are reset by its `reset`)."""
    cache.delete(_key(username))
