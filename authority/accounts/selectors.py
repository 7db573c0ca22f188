"""Reads for the People pages: where each person stands (invited, enrolled, locked out,
deactivated), and what the audit trail says about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from authority.accounts import lockout, permissions
from authority.accounts.models import TOTPDevice, User
from authority.audit.models import AuditEntry

RECENT_EVENTS = 10


@dataclass(frozen=True)
class Standing:
    """One person's state, as the People pages show it."""

    code: str  # deactivated, locked_out, invited, invitation_expired, no_password, enrolled, not_enrolled
    label: Promise
    badge: str  # Bootstrap's colour of the badge
    until: datetime | None = None  # the end of a lockout, or of an invitation link

    @property
    def locked_out(self) -> bool:
        return self.code == "locked_out"

    @property
    def awaits_password(self) -> bool:
        return self.code in ("invited", "invitation_expired", "no_password")


def with_second_factor(people: QuerySet[User]) -> QuerySet[User]:
    """`has_second_factor` on each person: a confirmed authenticator app."""
    return people.annotate(
        has_second_factor=Exists(TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True))
    )


def standing(
    person: User, *, has_second_factor: bool, locked_until: datetime | None, now: datetime
) -> Standing:
    """Deactivation first (nothing else matters then), then a lockout, then how far the
    person got: a password (or a pending or expired invitation), then the second factor."""
    if not person.is_active:
        return Standing("deactivated", _("Deactivated"), "secondary")
    if locked_until is not None:
        return Standing("locked_out", _("Locked out"), "danger", locked_until)
    if not person.has_usable_password():
        if person.invited_at is None:
            return Standing("no_password", _("No password"), "warning")
        expires = person.invited_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        if expires > now:
            return Standing("invited", _("Invited, link pending"), "info", expires)
        return Standing("invitation_expired", _("Invited, link expired"), "warning", expires)
    if has_second_factor:
        return Standing("enrolled", _("Enrolled"), "success")
    return Standing("not_enrolled", _("Second factor not set up"), "warning")


def standings(people: list[User]) -> dict[int, Standing]:
    """The standing of each person of a page of the list (from `with_second_factor`)."""
    locked = lockout.locked_until_many(person.username for person in people)
    now = timezone.now()
    return {
        person.pk: standing(
            person,
            has_second_factor=bool(getattr(person, "has_second_factor", False)),
            locked_until=locked.get(person.username),
            now=now,
        )
        for person in people
    }


def person_events(*, viewer: User, person: User) -> QuerySet[AuditEntry]:
    """This person's entries the viewer may see, as actor or as subject, newest first."""
    return (
        permissions.audit_visible_to(viewer)
        .filter(Q(actor=person) | Q(target=person.username))
        .select_related("region")
        .order_by("-created_at", "-pk")
    )


def recent_person_events(*, viewer: User, person: User) -> list[AuditEntry]:
    return list(person_events(viewer=viewer, person=person)[:RECENT_EVENTS])
