"""Signing in: the second factor (enrolment, verification, backup codes) and the audit entries
of logins, failed attempts, lockouts and logouts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticToken

from authority.accounts import lockout
from authority.accounts.models import (
    BackupCode,
    BackupCodeDevice,
    TOTPDevice,
    User,
    backup_code_digests,
)
from authority.audit.models import Action
from authority.audit.services import record_event

AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
# What the audit trail names instead of a username that matches no account: people sometimes
# type their password there.
UNKNOWN_ACCOUNT = "(unknown account)"


def pending_authenticator(*, user: User, pending_id: int | None) -> TOTPDevice:
    """The unconfirmed device whose secret the enrolment page shows.

    `pending_id` is the device this login session was shown before: a reload keeps it, so a
    QR code already scanned still works. Any other session gets a fresh secret and the user's
    earlier unconfirmed devices go, so someone who once had the password and saw the page
    does not know the secret the real user enrols.
    """
    # django-otp's DeviceManager is an unparameterised Manager: its results are typed here.
    if pending_id is not None:
        device: TOTPDevice | None = TOTPDevice.objects.filter(
            pk=pending_id, user=user, confirmed=False
        ).first()
        if device is not None:
            return device
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        created: TOTPDevice = TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR_NAME, confirmed=False
        )
        return created


def confirm_authenticator(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the device if the token matches; returns the first backup codes, or None.

    A confirmed enrolment is also the end of this login (the user passed both factors), and
    the audit trail records it as one.
    """
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        record_event(action=Action.SECOND_FACTOR_ENROLLED, actor=user)
        codes = replace_backup_codes(user=user)
        record_event(action=Action.LOGIN, actor=user)
    return codes


def verify_second_factor(*, user: User, token: str) -> Device | None:
    """The user's device that accepts `token` (an authenticator code, or a backup code, which
    is then used up), or None. Either way the audit trail records the attempt."""
    device = _device_accepting(user=user, token=token)
    if device is None:
        record_event(action=Action.SECOND_FACTOR_FAILED, actor=user)
        return None
    if isinstance(device, BackupCodeDevice):
        record_event(
            action=Action.BACKUP_CODE_USED,
            actor=user,
            details={"remaining": device.codes.count()},
        )
    record_event(action=Action.LOGIN, actor=user)
    return device


# The order a code is tried in: the authenticator first. A device that refuses a code counts it
# as a wrong attempt (django-otp's throttling), and django-otp's match_token, which tries every
# device in model order, put the backup codes first: each authenticator login counted as a wrong
# backup code, until after a few weeks of logins backup codes were refused for days and one
# mistyped code was answered with that wait. A code that is not the app's still counts against
# the app, so wrong codes of either kind keep making both wait, as the sign-in page says.
SECOND_FACTOR_ORDER: tuple[type[TOTPDevice] | type[BackupCodeDevice], ...] = (
    TOTPDevice,
    BackupCodeDevice,
)


def _device_accepting(*, user: User, token: str) -> Device | None:
    with transaction.atomic():
        for model in SECOND_FACTOR_ORDER:
            # django-otp's DeviceManager is an unparameterised Manager: its rows are typed here.
            devices: list[Device] = list(
                model.objects.filter(user=user, confirmed=True).select_for_update()
            )
            for device in devices:
                if device.verify_token(token):
                    return device
    return None


def second_factor_wait(user: User) -> datetime | None:
    """Until when django-otp refuses this user's codes after wrong ones, if it does now.

    Every wrong code counts against each of the person's devices (the authenticator and the
    backup codes), and each makes the next attempt wait twice as long: during the wait even a
    right code or a backup code is refused, so the page must say how long it lasts.
    """
    waits = []
    for device in devices_for_user(user, confirmed=True):
        allowed, details = device.verify_is_allowed()
        if not allowed and details and details.get("locked_until"):
            waits.append(details["locked_until"])
    latest = max(waits, default=None)
    return latest if latest is not None and latest > timezone.now() else None


def replace_backup_codes(*, user: User) -> list[str]:
    """New single-use backup codes; the old ones stop working. Shown once, then only counted:
    the database keeps their keyed hashes."""
    with transaction.atomic():
        device, _ = BackupCodeDevice.objects.get_or_create(
            user=user, defaults={"name": BACKUP_DEVICE_NAME, "confirmed": True}
        )
        device.codes.all().delete()
        codes = [StaticToken.random_token() for _ in range(settings.BACKUP_CODE_COUNT)]
        BackupCode.objects.bulk_create(
            BackupCode(device=device, digest=backup_code_digests(code)[0]) for code in codes
        )
        record_event(action=Action.BACKUP_CODES_GENERATED, actor=user)
    return codes


def remaining_backup_codes(user: User) -> int:
    return BackupCode.objects.filter(device__user=user).count()


def record_logout(*, user: User) -> None:
    record_event(action=Action.LOGOUT, actor=user)


def record_failed_password(*, username: str | None) -> None:
    """A wrong password (django-axes counts it towards the lockout; this is the trail's entry)."""
    user = _known_user(username)
    record_event(
        action=Action.LOGIN_FAILED,
        actor=user,
        actor_username="" if user else UNKNOWN_ACCOUNT,
        details={"step": "password"},
    )


def record_lockout(*, username: str | None, notify: Callable[[int, float], object]) -> None:
    """django-axes locked this account, or refused an attempt during its lockout.

    The lockout is recorded once, and once committed `notify(user id, end timestamp)` has the
    people who may lift it told; each attempt refused during the lock is a failed login.
    """
    if not username:
        return
    user = _known_user(username)
    actor_username = "" if user else UNKNOWN_ACCOUNT
    until = lockout.start_lockout(username)
    if until is None:
        record_event(
            action=Action.LOGIN_FAILED,
            actor=user,
            actor_username=actor_username,
            details={"step": "password", "refused": "locked out"},
        )
        return
    record_event(action=Action.LOGIN_LOCKED_OUT, actor=user, actor_username=actor_username)
    if user is not None:
        user_id, timestamp = user.pk, until.timestamp()
        transaction.on_commit(lambda: notify(user_id, timestamp), robust=True)


def remember_language(*, user: User, language: str) -> None:
    """The language of this person's e-mails from now on."""
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def _known_user(username: str | None) -> User | None:
    # Unknown names are not written down: people sometimes type their password there.
    if not username:
        return None
    return User.objects.filter(username=username).first()
