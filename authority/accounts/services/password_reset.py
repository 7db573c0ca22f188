"""A forgotten password: a single-use link e-mailed to the account's address, valid
PASSWORD_RESET_LINK_MINUTES; the second factor is still asked at the next login.

Asking for a link never tells whether the address belongs to anyone: the page is the same, and
the work done while it is drawn is the same lookup, the e-mail itself being sent by the worker.
Only active accounts that have a password get a link: a deactivated person stays deactivated,
and an account whose password an administrator disabled, or an invited person who has not
chosen one yet, needs a new invitation from someone who may make it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from authority.accounts import lockout
from authority.accounts.models import User
from authority.audit.models import Action
from authority.audit.services import record_event

# The addresses asked for are counted under a keyed hash: what people type there is theirs.
_THROTTLE_SALT = "authority.accounts.password-reset-asked"
# Django's tokens start with their time: seconds since this moment, local time, in base 36.
_TOKEN_EPOCH = datetime(2001, 1, 1)


class PasswordResetLinks(PasswordResetTokenGenerator):
    """Django's password-reset tokens under their own salt (an invitation's token is no reset
    token, nor the other way round) and with their own, shorter, lifetime.

    A token stops working once used: it is made from the password's hash, which the reset
    changes; a login in the meantime (last_login) ends it too.
    """

    key_salt = "authority.accounts.password-reset"

    def check_token(self, user: User | None, token: str | None) -> bool:
        # Django checks the signature and its own, longer, PASSWORD_RESET_TIMEOUT (invitations).
        if not super().check_token(user, token):
            return False
        made = _TOKEN_EPOCH + timedelta(seconds=base36_to_int(str(token).split("-", 1)[0]))
        return datetime.now() - made <= timedelta(minutes=settings.PASSWORD_RESET_LINK_MINUTES)


reset_links = PasswordResetLinks()


def resettable_users(email: str) -> list[User]:
    """The active accounts with a password whose address this is (any case)."""
    return list(
        User.objects.filter(email__iexact=email.strip(), is_active=True).exclude(
            password__startswith="!"  # Django's mark of an unusable password
        )
    )


def request_password_reset(
    *, email: str, language: str, send: Callable[[list[int], str], object]
) -> None:
    """Once the caller's transaction commits, `send(user ids, language)` has a link e-mailed to
    each account with this address. Says nothing either way, and takes the same steps either
    way: one lookup, one cache write, and (at most once per address every
    PASSWORD_RESET_EMAIL_INTERVAL_MINUTES, so that nobody can fill a mailbox by asking again
    and again) one task handed to the broker, with no ids when the address is no one's."""
    normalized = email.strip().lower()
    user_ids = [user.pk for user in resettable_users(normalized)]
    digest = salted_hmac(_THROTTLE_SALT, normalized, algorithm="sha256").hexdigest()
    interval = settings.PASSWORD_RESET_EMAIL_INTERVAL_MINUTES * 60
    if cache.add(f"accounts.password-reset-asked:{digest}", True, timeout=interval):
        transaction.on_commit(_sender(send, user_ids, language), robust=True)


def _sender(
    send: Callable[[list[int], str], object], user_ids: list[int], language: str
) -> Callable[[], None]:
    # A named function: on_commit names it when it logs a failure (a partial has no name).
    def send_reset_links() -> None:
        send(user_ids, language)

    return send_reset_links


def reset_link_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("accounts:password_reset_confirm", args=[uid, reset_links.make_token(user)])


class LinkAlreadyUsed(Exception):
    """Two submissions of one link at once: the second finds the password already changed."""


def reset_password(*, user: User, password: str) -> None:
    """The new password of someone who followed a reset link (checked by the validators).

    It also ends a lockout: the lock held back guesses at the old password, and whoever has
    just proved they read the account's mailbox still needs the second factor to log in.
    """
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.password != user.password:
            raise LinkAlreadyUsed
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event(action=Action.PASSWORD_SET, actor=user, details={"via": "reset link"})
    reset_lockout(username=user.username)
    lockout.end_lockout(user.username)
