"""Audit entries for what happens inside Django's and django-axes' login machinery."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from authority.accounts.models import User
from authority.audit.models import Action
from authority.audit.services import record_event


def _known_user(username: str | None) -> User | None:
    # Unknown names are not written down: people sometimes type their password there.
    if not username:
        return None
    return User.objects.filter(username=username).first()


@receiver(user_login_failed)
def audit_failed_login(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    if getattr(request, "axes_locked_out", False):
        return  # the lockout itself is audited below, once
    user = _known_user(credentials.get("username"))
    record_event(
        action=Action.LOGIN_FAILED,
        actor=user,
        actor_username="" if user else "(unknown account)",
        details={"step": "password"},
    )


@receiver(user_locked_out)
def audit_lockout(sender: Any, request: Any, username: str | None, **kwargs: Any) -> None:
    user = _known_user(username)
    record_event(
        action=Action.LOGIN_LOCKED_OUT,
        actor=user,
        actor_username="" if user else "(unknown account)",
    )
