"""The e-mails of accounts: an invitation, a password-reset link, a lockout notice.

Called by the Celery tasks of tasks/mail.py (never inside a page's request or a database
transaction: an SMTP server may be slow). Each takes ids, loads what it needs, and returns
what it did; an SMTP failure raises, and the task tries again later. A message is in the
recipient's language, as plain text with a simple HTML version, and carries no patient data
and no code: only the link the person needs, the site's address and the people involved.
"""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from authority.accounts.models import Role, User
from authority.accounts.services.invitations import invitation_path
from authority.accounts.services.password_reset import reset_link_path

SENT = "sent"
SKIPPED = "skipped"


class DeliveryFailed(Exception):
    """The SMTP server could not take the message now (no answer, a 4xx): try again later.

    Its message names the user's id and the server's reply code, never an address: SMTP errors
    quote the recipient, and Celery logs every retry and failure with the exception's text."""


class DeliveryRefused(Exception):
    """The SMTP server refused the message for good (a 5xx): trying again would not help."""


def send_invitation(*, user_id: int, inviter_id: int | None) -> str:
    """The invitation link, to an invited person who has not chosen a password yet."""
    user = User.objects.select_related("region").filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or user.has_usable_password():
        return SKIPPED
    inviter = User.objects.filter(pk=inviter_id).first() if inviter_id else None
    made = user.invited_at or timezone.now()
    _send(
        to=user,
        template="invitation",
        context={
            "person": user,
            "inviter": inviter,
            "link": _absolute(invitation_path(user)),
            "valid_until": made + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        },
    )
    return SENT


def send_password_reset(*, user_id: int, language: str) -> str:
    """A password-reset link, in the language of the page where it was asked for."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not user.has_usable_password():
        return SKIPPED
    _send(
        to=user,
        template="password_reset",
        language=language,
        context={
            "person": user,
            "link": _absolute(reset_link_path(user)),
            "minutes": settings.PASSWORD_RESET_LINK_MINUTES,
            "request_again": _absolute(reverse("accounts:password_reset")),
        },
    )
    return SENT


def lockout_notice_recipients(user: User) -> QuerySet[User]:
    """Who hears of this person's lockout: the supervisors of their region and, when none of
    them may lift it (the person is a supervisor, has no region, or their region has no
    supervisor with an address), the administrators. Never the person locked out; only
    active people with an address."""
    reachable = User.objects.filter(is_active=True).exclude(email="").exclude(pk=user.pk)
    if user.region_id is None:
        return reachable.filter(role=Role.ADMINISTRATOR)
    supervisors = reachable.filter(role=Role.SUPERVISOR, region_id=user.region_id)
    if user.role == Role.OPERATOR and supervisors.exists():
        return supervisors
    return reachable.filter(role=Role.ADMINISTRATOR) | supervisors


def lockout_notice_recipient_ids(*, user_id: int) -> list[int]:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return []
    return list(lockout_notice_recipients(user).values_list("pk", flat=True))


def send_lockout_notice(*, user_id: int, recipient_id: int, locked_until: float) -> str:
    """One recipient's notice of one lockout."""
    user = User.objects.select_related("region").filter(pk=user_id).first()
    recipient = User.objects.filter(pk=recipient_id, is_active=True).exclude(email="").first()
    if user is None or recipient is None:
        return SKIPPED
    _send(
        to=recipient,
        template="lockout_notice",
        context={
            "person": user,
            "recipient": recipient,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "locked_until": datetime.fromtimestamp(
                locked_until, tz=timezone.get_current_timezone()
            ),
            "person_link": _absolute(reverse("accounts:person", args=[user.pk])),
        },
    )
    return SENT


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _send(*, to: User, template: str, context: dict[str, Any], language: str = "") -> None:
    language = language or to.language
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    context = {"site_url": settings.SITE_URL, "time_zone": settings.TIME_ZONE, **context}
    # Times are written in the authority's zone, whatever the worker's.
    with translation.override(language), timezone.override(settings.TIME_ZONE):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
        text = render_to_string(f"accounts/email/{template}.txt", context)
        html = render_to_string(f"accounts/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),  # one line, whatever the template's layout
        body=text,
        to=[to.email],
        headers={"Content-Language": language},
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = sorted({code for code, _reply in error.recipients.values()})
        raise _failure(template, to, codes[-1] if codes else None) from None
    except smtplib.SMTPResponseException as error:
        raise _failure(template, to, error.smtp_code) from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(
            f"{template} e-mail to user {to.pk}: {type(error).__name__}, no SMTP reply"
        ) from None


def _failure(template: str, to: User, code: int | None) -> Exception:
    what = f"{template} e-mail to user {to.pk}: SMTP reply {code}"
    return DeliveryRefused(what) if code is not None and code >= 500 else DeliveryFailed(what)
