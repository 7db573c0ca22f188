"""Workflows about people: inviting, deactivating, second factors and lockouts."""

from __future__ import annotations

from dataclasses import dataclass

from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticToken

from authority.accounts import permissions
from authority.accounts.models import (
    BackupCode,
    BackupCodeDevice,
    Region,
    Role,
    TOTPDevice,
    User,
    backup_code_digests,
)
from authority.audit.models import Action
from authority.audit.services import record_event

AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"


class PasswordAlreadySet(Exception):
    """An invitation only lets someone choose their first password, never replace one."""


@dataclass(frozen=True)
class Invitation:
    user: User
    path: str  # relative link; the page shows it with the site's address


def invitation_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:accept_invitation", args=[uid, token])


def invite_user(
    *,
    actor: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: Role,
    region: Region | None,
) -> Invitation:
    """Create an account with no usable password and a link with which its owner sets one."""
    if role not in permissions.assignable_roles(actor):
        raise PermissionDenied("This role cannot be assigned by you.")
    if role != Role.ADMINISTRATOR and (
        region is None or not permissions.assignable_regions(actor).filter(pk=region.pk).exists()
    ):
        raise PermissionDenied("This region cannot be assigned by you.")
    with transaction.atomic():
        user = User(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=email,
            role=role,
            region=None if role == Role.ADMINISTRATOR else region,
        )
        user.set_unusable_password()
        user.full_clean()
        user.save()
        record_event(
            action=Action.USER_CREATED,
            actor=actor,
            region=user.region,
            target=user.username,
            details={"role": role.value},
        )
    return Invitation(user=user, path=invitation_path(user))


def renew_invitation(*, actor: User, user: User) -> Invitation:
    """A new link for someone who has not chosen a password yet (the old one expired or got lost).

    Whoever holds a link sets the account's password, so a link for an account that already
    has one would hand the account to whoever asked for it.
    """
    _require_manageable(actor, user)
    if user.has_usable_password():
        raise PasswordAlreadySet
    record_event(
        action=Action.USER_CHANGED,
        actor=actor,
        region=user.region,
        target=user.username,
        details={"invitation": "renewed"},
    )
    return Invitation(user=user, path=invitation_path(user))


def set_active(*, actor: User, user: User, active: bool) -> None:
    _require_manageable(actor, user)
    if user.is_active == active:
        return
    user.is_active = active
    user.save(update_fields=["is_active"])
    record_event(
        action=Action.USER_REACTIVATED if active else Action.USER_DEACTIVATED,
        actor=actor,
        region=user.region,
        target=user.username,
    )


def keeps_an_active_administrator(*, user: User, role: str, is_active: bool) -> bool:
    """Whether someone could still administer the system if `user` had this role and state."""
    if role == Role.ADMINISTRATOR and is_active:
        return True
    return User.objects.filter(role=Role.ADMINISTRATOR, is_active=True).exclude(pk=user.pk).exists()


def reset_second_factor(*, actor: User, user: User) -> None:
    """For a user who lost their phone: they enrol again at their next login."""
    _require_manageable(actor, user)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        BackupCodeDevice.objects.filter(user=user).delete()
        record_event(
            action=Action.SECOND_FACTOR_RESET, actor=actor, region=user.region, target=user.username
        )


def lift_lockout(*, actor: User, user: User) -> None:
    _require_manageable(actor, user)
    reset_lockout(username=user.username)
    record_event(
        action=Action.LOGIN_UNLOCKED, actor=actor, region=user.region, target=user.username
    )


def pending_authenticator(*, user: User, pending_id: int | None) -> TOTPDevice:
    """The unconfirmed device whose secret the enrolment page shows.

    `pending_id` is the device this login session was shown before: a reload keeps it, so a
    QR code already scanned still works. Any other session gets a fresh secret and the user's
    earlier unconfirmed devices go, so someone who once had the password and saw the page
    does not know the secret the real user enrols.
    """
    if pending_id is not None:
        device = TOTPDevice.objects.filter(pk=pending_id, user=user, confirmed=False).first()
        if device is not None:
            return device
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def confirm_authenticator(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the device if the token matches; returns the first backup codes, or None."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(token):
        return None
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        record_event(action=Action.SECOND_FACTOR_ENROLLED, actor=user)
        return replace_backup_codes(user=user)


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


def _require_manageable(actor: User, user: User) -> None:
    if not permissions.can_manage_user(actor, user):
        raise PermissionDenied
