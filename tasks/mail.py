"""E-mail to staff: thin tasks around authority.accounts.services.mail, enqueued once the
transaction that called for them has committed. They take ids (Celery logs arguments and
results: never an address or a link); an SMTP server that fails or does not answer within
EMAIL_TIMEOUT is tried again, waiting 30 s, 1 min, 2 min... up to 30 min between attempts.
A message the server refuses for good (5xx) is not tried again."""

from __future__ import annotations

from typing import TypedDict

from authority.accounts.services import mail
from tasks.celery import app


class _RetryOptions(TypedDict):
    """Options of `app.task`, typed so that mypy checks each against Celery's."""

    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: int
    retry_backoff_max: int
    retry_jitter: bool
    max_retries: int
    soft_time_limit: int
    time_limit: int
    ignore_result: bool


_RETRIED: _RetryOptions = {
    "autoretry_for": (mail.DeliveryFailed,),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 10,  # about 3 hours of trying
    "soft_time_limit": 120,
    "time_limit": 180,
    "ignore_result": True,
}


@app.task(**_RETRIED)
def send_invitation(user_id: int, inviter_id: int | None = None) -> str:
    return mail.send_invitation(user_id=user_id, inviter_id=inviter_id)


@app.task(ignore_result=True)
def send_password_resets(user_ids: list[int], language: str) -> int:
    """One request for a reset: a task per account with the address (none for an unknown one,
    which the request page handed over all the same, so that its time says nothing)."""
    for user_id in user_ids:
        send_password_reset.delay(user_id, language)
    return len(user_ids)


@app.task(**_RETRIED)
def send_password_reset(user_id: int, language: str) -> str:
    return mail.send_password_reset(user_id=user_id, language=language)


@app.task(**_RETRIED)
def send_lockout_notices(user_id: int, locked_until: float) -> int:
    """One task per recipient, so that a failure for one repeats no message to another."""
    recipients = mail.lockout_notice_recipient_ids(user_id=user_id)
    for recipient_id in recipients:
        send_lockout_notice.delay(user_id, recipient_id, locked_until)
    return len(recipients)


@app.task(**_RETRIED)
def send_lockout_notice(user_id: int, recipient_id: int, locked_until: float) -> str:
    return mail.send_lockout_notice(
        user_id=user_id, recipient_id=recipient_id, locked_until=locked_until
    )
