"""Audit entries for what happens inside Django's and django-axes' login machinery."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from authority.accounts.services import sign_in


@receiver(user_login_failed)
def audit_failed_login(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    if getattr(request, "axes_locked_out", False):
        return  # the lockout itself is audited below, once
    sign_in.record_failed_password(username=credentials.get("username"))


@receiver(user_locked_out)
def audit_lockout(sender: Any, request: Any, username: str | None, **kwargs: Any) -> None:
    sign_in.record_lockout(username=username)
