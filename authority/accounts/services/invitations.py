"""Invitations: an account without a password, and a one-time link with which its owner
chooses one (valid PASSWORD_RESET_TIMEOUT; Django's password-reset tokens). The link is shown
once to whoever made it and, when the person has an address, e-mailed to them (by the worker,
once the account is committed: `send`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from authority.accounts import permissions
from authority.accounts.models import Region, Role, User
from authority.audit.models import Action
from authority.audit.services import record_event


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
    language: str = "it",
    send: Callable[[int, int], object] | None = None,
) -> Invitation:
    """Create an account with no usable password and a link with which its owner sets one.

    `language` is that of the person's e-mails; once committed, `send(user id, actor id)`
    e-mails them the link (when they have an address)."""
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
            language=language,
            invited_at=timezone.now(),
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
        _send_when_committed(user=user, actor=actor, send=send)
    return Invitation(user=user, path=invitation_path(user))


def _send_when_committed(
    *, user: User, actor: User, send: Callable[[int, int], object] | None
) -> None:
    if send is not None and user.email:
        user_id, actor_id = user.pk, actor.pk
        # robust: a broker that is down must not turn the page into an error; the link is
        # on the page anyway, and the failure is logged.
        transaction.on_commit(lambda: send(user_id, actor_id), robust=True)


def renew_invitation(
    *, actor: User, user: User, send: Callable[[int, int], object] | None = None
) -> Invitation:
    """A new link for someone who has not chosen a password yet (the old one expired or got lost).

    Whoever holds a link sets the account's password, so a link for an account that already
    has one would hand the account to whoever asked for it.
    """
    if not permissions.can_manage_user(actor, user):
        raise PermissionDenied
    if user.has_usable_password():
        raise PasswordAlreadySet
    with transaction.atomic():
        user.invited_at = timezone.now()
        user.save(update_fields=["invited_at"])
        record_event(
            action=Action.USER_CHANGED,
            actor=actor,
            region=user.region,
            target=user.username,
            details={"invitation": "renewed"},
        )
        _send_when_committed(user=user, actor=actor, send=send)
    return Invitation(user=user, path=invitation_path(user))


def invited_user(*, uidb64: str, token: str) -> User | None:
    """The person a link was made for, while the link still lets them choose a first password.

    None for a malformed or expired link, for a deactivated account, and once the account has
    a password (choosing one also changes the hash the token is made from, so a used link
    fails twice over).
    """
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=True)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        return None
    if user.has_usable_password() or not default_token_generator.check_token(user, token):
        return None
    return user


def choose_first_password(*, user: User, password: str) -> None:
    """The invited person's password (already checked against the password validators)."""
    with transaction.atomic():
        # Locked: two submissions of one link must not both set a password.
        if User.objects.select_for_update().get(pk=user.pk).has_usable_password():
            raise PasswordAlreadySet
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event(action=Action.PASSWORD_SET, actor=user)
