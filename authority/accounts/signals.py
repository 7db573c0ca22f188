"""What happens inside Django's and django-axes' login machinery: audit entries, the notice of
a lockout, and the language of a person's e-mails."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.utils import translation

from authority.accounts.services import sign_in
from tasks.mail import send_lockout_notices


@receiver(user_login_failed)
def audit_failed_login(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    if getattr(request, "axes_locked_out", False):
        return  # recorded below: the attempt that locks, or one refused during the lock
    sign_in.record_failed_password(username=credentials.get("username"))


@receiver(user_locked_out)
def lockout(sender: Any, request: Any, username: str | None, **kwargs: Any) -> None:
    sign_in.record_lockout(username=username, notify=send_lockout_notices.delay)


@receiver(user_logged_in)
def remember_language(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """E-mails follow the language of the pages the person last logged in with."""
    language = translation.get_language()
    if request is not None and language in dict(settings.LANGUAGES):
        sign_in.remember_language(user=user, language=language)
