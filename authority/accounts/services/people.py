"""Managing people and regions: standing (active, second factor, lockout) and the changes made
in the admin, each with its audit entry."""

from __future__ import annotations

from collections.abc import Iterable

from axes.utils import reset as reset_lockout
from django.core.exceptions import PermissionDenied
from django.db import transaction

from authority.accounts import lockout, permissions
from authority.accounts.models import BackupCodeDevice, Region, Role, TOTPDevice, User
from authority.audit.models import Action
from authority.audit.services import record_event

# Never named in the audit trail's list of changed fields: the entry says a password changed,
# the form's fields would only repeat it.
PASSWORD_FIELDS = frozenset({"password", "password1", "password2"})


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


class NotLockedOut(Exception):
    """There is no lockout to lift (it ended, or someone lifted it first)."""


def lift_lockout(*, actor: User, user: User) -> None:
    _require_manageable(actor, user)
    if lockout.locked_until(user.username) is None:
        raise NotLockedOut
    reset_lockout(username=user.username)
    lockout.end_lockout(user.username)
    record_event(
        action=Action.LOGIN_UNLOCKED, actor=actor, region=user.region, target=user.username
    )


def save_person(*, actor: User, user: User, changed_fields: Iterable[str], created: bool) -> None:
    """An account created or edited in the admin (its form has checked the rules)."""
    with transaction.atomic():
        user.save()
        record_event(
            action=Action.USER_CREATED if created else Action.USER_CHANGED,
            actor=actor,
            region=user.region,
            target=user.username,
            details={"fields": sorted(set(changed_fields) - PASSWORD_FIELDS)},
        )


def record_password_change(*, actor: User, user: User) -> None:
    """An administrator set or disabled someone's password (Django's admin page wrote it)."""
    record_event(
        action=Action.USER_CHANGED,
        actor=actor,
        region=user.region,
        target=user.username,
        details={
            "fields": ["password"],
            "password": "set" if user.has_usable_password() else "disabled",
        },
    )


def record_own_password_change(*, user: User) -> None:
    """Someone changed their own password (the admin's page for it wrote it)."""
    record_event(action=Action.PASSWORD_SET, actor=user)


def save_region(*, actor: User, region: Region, changed_fields: Iterable[str]) -> None:
    """A region created or edited in the admin (switching it off stops its codes)."""
    with transaction.atomic():
        region.save()
        record_event(
            action=Action.REGION_CHANGED,
            actor=actor,
            region=region,
            target=region.name,
            details={"fields": sorted(changed_fields)},
        )


def _require_manageable(actor: User, user: User) -> None:
    if not permissions.can_manage_user(actor, user):
        raise PermissionDenied
