"""Everyone's authenticator enrolled again: for when the seeds may be known outside, such as
the backups taken while they were stored in clear (docs/upgrading.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.sessions.models import Session
from django.db import transaction

from authority.accounts.models import BackupCodeDevice, TOTPDevice, User
from authority.audit.models import Action
from authority.audit.services import record_event


class UnknownPeople(Exception):
    """Usernames that name no account; nothing was reset."""

    def __init__(self, usernames: Sequence[str]) -> None:
        super().__init__(", ".join(usernames))
        self.usernames = list(usernames)


@dataclass(frozen=True)
class Reenrolment:
    people: int  # whose authenticator and backup codes were removed
    sessions_ended: int  # every session, when everyone was reset


def require_reenrolment(
    *, requested_by: str, reason: str, usernames: Sequence[str] | None = None
) -> Reenrolment:
    """Remove the authenticators and backup codes of the people named (everyone's with None):
    each sets up a new authenticator at their next login. One audit entry per person.

    Resetting everyone also ends every session, so everyone signs in again with their password
    before enrolling; a session of one person named here passes its second factor no more
    (django-otp forgets a device that is gone), so it goes to the enrolment page too.
    """
    with transaction.atomic():
        people = User.objects.select_for_update().order_by("username")
        if usernames is None:
            # Deactivated accounts too: reactivated, they would bring the old seed back.
            with_devices = TOTPDevice.objects.values("user").union(
                BackupCodeDevice.objects.values("user")
            )
            people = people.filter(pk__in=[row["user"] for row in with_devices])
        else:
            people = people.filter(username__in=set(usernames))
            unknown = sorted(set(usernames) - set(people.values_list("username", flat=True)))
            if unknown:
                raise UnknownPeople(unknown)
        reset = 0
        for person in people:
            TOTPDevice.objects.filter(user=person).delete()
            BackupCodeDevice.objects.filter(user=person).delete()
            record_event(
                action=Action.SECOND_FACTOR_RESET,
                actor_username=requested_by,
                region=person.region,
                target=person.username,
                details={"reason": reason, "everyone": usernames is None},
            )
            reset += 1
        sessions_ended = Session.objects.all().delete()[0] if usernames is None else 0
    return Reenrolment(people=reset, sessions_ended=sessions_ended)
