"""Changing what phones are told: saving the draft, publishing it (at once or at a chosen
time), rolling back to an earlier version, cancelling a scheduled one.

Every write checks the revision (or version) the administrator was looking at, so two people
editing at once never overwrite each other silently; every publication is validated again,
recorded in the audit trail with its diff, and bumps the generation that refreshes the
endpoint's cache in every web process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from authority.appconfig import builds, selectors
from authority.appconfig.catalogue import MAX_BUILD
from authority.appconfig.diff import Change, diff_contents
from authority.appconfig.models import SettingsDraft, SettingsGeneration, SettingsVersion
from authority.appconfig.serving import cache
from authority.appconfig.validation import (
    Limits,
    Problem,
    document_problems,
    overrides_problems,
)
from authority.audit.models import Action
from authority.audit.services import record_event

if TYPE_CHECKING:
    from authority.accounts.models import User

# How far ahead a version may be scheduled.
LONGEST_SCHEDULE = timedelta(days=366)


class DraftConflict(Exception):
    """The draft changed (or was published, or discarded) since the revision the
    administrator worked from; `current` is what is saved now (None: no draft)."""

    def __init__(self, current: SettingsDraft | None) -> None:
        super().__init__("the draft changed in the meantime")
        self.current = current


class StaleReview(Exception):
    """Another version came into force since the administrator reviewed the diff."""


class InvalidSettings(Exception):
    def __init__(self, problems: list[DraftProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


class NothingToPublish(Exception):
    """The change would serve exactly what is in force."""


class BadSchedule(Exception):
    pass


@dataclass(frozen=True)
class DraftProblem:
    """A refused value: its setting (catalogue key; "" for the whole draft, "newest_build"),
    the builds it concerns (None: every build, or the base document) and why."""

    key: str
    message: str
    first_build: int | None = None
    last_build: int | None = None


@dataclass(frozen=True)
class Content:
    document: dict[str, Any]
    overrides: list[dict[str, Any]] = field(default_factory=list)
    newest_build: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "overrides": self.overrides,
            "newest_build": self.newest_build,
        }


# --- Checks -------------------------------------------------------------------------------------


def limits_for(platform: str, newest_build: int | None) -> Limits:
    in_force = selectors.version_in_force(platform)
    minimum_in_force = None
    if in_force is not None:
        minimum_in_force = max(
            int(segment.document.get("minimum_build_version", 0))
            for segment in builds.segments(
                in_force.document, in_force.overrides, last_build=MAX_BUILD[platform]
            )
        )
    return Limits(newest_build=newest_build, minimum_build_in_force=minimum_in_force)


def content_problems(platform: str, content: Content) -> list[DraftProblem]:
    """Everything refused in a draft: the declared newest build, the base document, then what
    the overrides make of each range of builds."""
    found: list[DraftProblem] = []
    newest = content.newest_build
    highest = MAX_BUILD[platform]
    if newest is not None and (type(newest) is not int or not 1 <= newest <= highest):
        found.append(
            DraftProblem("newest_build", _("A build number from 1 to %(max)s.") % {"max": highest})
        )
        newest = None
    limits = limits_for(platform, newest)
    found.extend(_as_draft(document_problems(platform, content.document, limits=limits)))
    for segment, problem in overrides_problems(
        platform, content.document, content.overrides, limits=limits
    ):
        found.append(
            DraftProblem(
                problem.key,
                problem.message,
                segment.first_build if segment else None,
                segment.last_build if segment else None,
            )
        )
    return found


def _as_draft(problems: list[Problem]) -> list[DraftProblem]:
    return [DraftProblem(p.key, p.message) for p in problems]


# --- The draft ------------------------------------------------------------------------------------


def save_draft(*, platform: str, actor: User, content: Content, revision: int) -> SettingsDraft:
    """Save the draft made from `revision` (0: there was no draft, it starts from the version
    in force). Raises DraftConflict when someone saved, published or discarded in between, and
    InvalidSettings when something is refused (nothing is saved then)."""
    problems = content_problems(platform, content)
    if problems:
        raise InvalidSettings(problems)
    now = timezone.now()
    try:
        with transaction.atomic():
            current = SettingsDraft.objects.select_for_update().filter(platform=platform).first()
            if current is None:
                if revision != 0:
                    raise DraftConflict(None)
                in_force = selectors.version_in_force(platform)
                return SettingsDraft.objects.create(
                    platform=platform,
                    document=content.document,
                    overrides=content.overrides,
                    newest_build=content.newest_build,
                    based_on=in_force.number if in_force else None,
                    revision=1,
                    updated_by=actor,
                    updated_at=now,
                )
            if current.revision != revision:
                raise DraftConflict(current)
            current.document = content.document
            current.overrides = content.overrides
            current.newest_build = content.newest_build
            current.revision += 1
            current.updated_by = actor
            current.updated_at = now
            current.save()
            return current
    except IntegrityError:
        # Two first saves at once: the other one created the draft.
        raise DraftConflict(selectors.draft(platform)) from None


def discard_draft(*, platform: str, actor: User, revision: int) -> None:
    with transaction.atomic():
        current = SettingsDraft.objects.select_for_update().filter(platform=platform).first()
        if current is None or current.revision != revision:
            raise DraftConflict(current)
        current.delete()


def draft_content(platform: str) -> tuple[Content, int]:
    """What the editing form starts from: the draft and its revision, or the version in force
    and revision 0."""
    current = selectors.draft(platform)
    if current is not None:
        return Content(current.document, current.overrides, current.newest_build), current.revision
    in_force = selectors.version_in_force(platform)
    if in_force is None:
        from authority.appconfig.defaults import immuni_defaults

        return Content(immuni_defaults(platform)), 0
    return Content(in_force.document, in_force.overrides, in_force.newest_build), 0


# --- Publishing -----------------------------------------------------------------------------------


def _lock_generation() -> SettingsGeneration:
    SettingsGeneration.objects.get_or_create(pk=1)
    return SettingsGeneration.objects.select_for_update().get(pk=1)


def _bump(generation: SettingsGeneration) -> None:
    generation.value += 1
    generation.save(update_fields=["value"])
    # This process serves the new version at once; the others within their recheck interval.
    transaction.on_commit(cache.forget)


def _check_in_force(platform: str, expected: int | None) -> SettingsVersion | None:
    in_force = selectors.version_in_force(platform)
    if (in_force.number if in_force else None) != expected:
        raise StaleReview()
    return in_force


def _check_schedule(activates_at: datetime | None, now: datetime) -> datetime:
    if activates_at is None:
        return now
    if activates_at <= now:
        raise BadSchedule(_("The time to put it in force has passed: choose a later one."))
    if activates_at > now + LONGEST_SCHEDULE:
        raise BadSchedule(_("At most a year ahead."))
    return activates_at


def _audit_details(
    platform: str, version: SettingsVersion, changes: list[Change], **extra: Any
) -> dict[str, Any]:
    return {
        "platform": platform,
        "version": version.number,
        "activates_at": version.activates_at.isoformat(),
        "note": version.note,
        "changes": [change.for_audit() for change in changes],
        **extra,
    }


def review(platform: str, content: Content) -> tuple[SettingsVersion | None, list[Change]]:
    """The version in force and what `content` changes in it."""
    in_force = selectors.version_in_force(platform)
    return in_force, diff_contents(
        platform, in_force.content if in_force else None, content.as_dict()
    )


def publish_draft(
    *,
    platform: str,
    actor: User,
    revision: int,
    in_force_number: int | None,
    activates_at: datetime | None = None,
    note: str = "",
) -> SettingsVersion:
    """Publish the draft as the next version, in force at once or at `activates_at`.

    `revision` and `in_force_number` are what the administrator reviewed: if the draft or the
    version in force changed since, nothing is published (DraftConflict, StaleReview).
    """
    now = timezone.now()
    when = _check_schedule(activates_at, now)
    with transaction.atomic():
        generation = _lock_generation()
        current = SettingsDraft.objects.select_for_update().filter(platform=platform).first()
        if current is None or current.revision != revision:
            raise DraftConflict(current)
        in_force = _check_in_force(platform, in_force_number)
        content = Content(current.document, current.overrides, current.newest_build)
        problems = content_problems(platform, content)
        if problems:
            raise InvalidSettings(problems)
        changes = diff_contents(platform, in_force.content if in_force else None, content.as_dict())
        if not changes:
            raise NothingToPublish()
        version = SettingsVersion.objects.create(
            platform=platform,
            number=selectors.latest_number(platform) + 1,
            document=content.document,
            overrides=content.overrides,
            newest_build=content.newest_build,
            note=note[:500],
            published_by=actor,
            published_at=now,
            activates_at=when,
        )
        current.delete()
        record_event(
            action=Action.APP_SETTINGS_PUBLISHED,
            actor=actor,
            target=f"{platform} v{version.number}",
            details=_audit_details(
                platform,
                version,
                changes,
                replaces=in_force.number if in_force else None,
                scheduled=when > now,
            ),
        )
        _bump(generation)
    return version


def roll_back(
    *,
    platform: str,
    actor: User,
    number: int,
    in_force_number: int | None,
    note: str = "",
) -> SettingsVersion:
    """Put version `number`'s settings back in force at once, as a new version (the history
    keeps every version as it was)."""
    now = timezone.now()
    with transaction.atomic():
        generation = _lock_generation()
        target = SettingsVersion.objects.filter(platform=platform, number=number).first()
        if target is None:
            raise SettingsVersion.DoesNotExist()
        in_force = _check_in_force(platform, in_force_number)
        changes = diff_contents(platform, in_force.content if in_force else None, target.content)
        if not changes:
            raise NothingToPublish()
        version = SettingsVersion.objects.create(
            platform=platform,
            number=selectors.latest_number(platform) + 1,
            document=target.document,
            overrides=target.overrides,
            newest_build=target.newest_build,
            note=(note or _("Rollback to version %(n)s") % {"n": number})[:500],
            published_by=actor,
            published_at=now,
            activates_at=now,
            restores=number,
        )
        record_event(
            action=Action.APP_SETTINGS_ROLLED_BACK,
            actor=actor,
            target=f"{platform} v{version.number}",
            details=_audit_details(
                platform,
                version,
                changes,
                restores=number,
                replaces=in_force.number if in_force else None,
            ),
        )
        _bump(generation)
    return version


def cancel_scheduled(*, platform: str, actor: User, number: int) -> SettingsVersion:
    """Stop a scheduled version before its time: it stays in the history, cancelled."""
    now = timezone.now()
    with transaction.atomic():
        generation = _lock_generation()
        version = (
            SettingsVersion.objects.select_for_update()
            .filter(platform=platform, number=number)
            .first()
        )
        if version is None or not version.is_scheduled(now):
            raise BadSchedule(_("Only a version that is not yet in force can be cancelled."))
        version.cancelled_at = now
        version.cancelled_by = actor
        version.save(update_fields=["cancelled_at", "cancelled_by"])
        record_event(
            action=Action.APP_SETTINGS_CANCELLED,
            actor=actor,
            target=f"{platform} v{number}",
            details={
                "platform": platform,
                "version": number,
                "activates_at": version.activates_at.isoformat(),
            },
        )
        _bump(generation)
    return version
