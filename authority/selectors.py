"""Reads for the site's own pages: what each role's home page shows, and whom a person can ask
when a page refuses them. The templates only display what these return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from axes.helpers import get_cache, get_client_cache_keys
from axes.models import AccessAttempt
from celery.schedules import crontab
from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone

from authority.accounts import permissions
from authority.accounts.models import Region, Role, TOTPDevice, User
from authority.federation import configuration as federation_configuration
from authority.federation.models import FederationRun, OutboundBatch
from authority.ingestion.guessing.ledger import Activity
from authority.ingestion.guessing.selectors import guessing_under_way
from authority.keys import selectors as key_selectors
from authority.keys.models import Batch, PublicationRun, SigningKey
from authority.otps import metrics as code_metrics
from authority.otps import services as code_services
from authority.otps.models import Otp
from authority.otps.permissions import codes_visible_to
from authority.otps.selectors import IssuanceSurge, issuance_surges
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day

# "About to expire": a code still waiting for the app that stops working within this time, while
# there is still time to call the patient back.
EXPIRING_WITHIN = timedelta(hours=2)
# Rows of a list on a home page; the rest is one link away.
LIST_LIMIT = 10
# The stored-but-unpublished count is an anti-join over every key (~0.3 s per million).
KEYS_WAITING_SECONDS = 60


# --- Whom to ask -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Helpers:
    """Whom a person can turn to when a page refuses them or breaks."""

    role: str  # "" for someone not logged in
    region: Region | None
    supervisors: list[str]  # names of the region's active supervisors (for its operators)
    support_contact: str


def helpers_for(user: permissions.Visitor) -> Helpers:
    if not user.is_authenticated:
        return Helpers("", None, [], settings.SUPPORT_CONTACT)
    supervisors: list[str] = []
    if user.role == Role.OPERATOR and user.region_id is not None:
        supervisors = [
            supervisor.display_name
            for supervisor in User.objects.filter(
                region_id=user.region_id, role=Role.SUPERVISOR, is_active=True
            ).order_by("last_name", "first_name", "username")[:3]
        ]
    return Helpers(user.role, user.region, supervisors, settings.SUPPORT_CONTACT)


# --- Home pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodesOfToday:
    """An operator's day: how many codes they gave against their quota, and the codes."""

    given: int
    quota: int
    codes: list[Otp]
    more: bool


@dataclass(frozen=True)
class RegionToday:
    region: Region
    issued: int
    authorized: int
    redeemed: int
    expired: int
    revoked: int


@dataclass(frozen=True)
class PersonToWatch:
    """Someone of the region who cannot work right now, and why."""

    LOCKED_OUT = "locked_out"
    INVITATION_PENDING = "invitation_pending"
    NO_SECOND_FACTOR = "no_second_factor"

    person: User
    reason: str


@dataclass(frozen=True)
class PublicationHealth:
    last_batch: Batch | None
    latest_run: PublicationRun | None
    # The scheduled publication that should have finished by now and has not (None: on time).
    missed_run_at: datetime | None
    keys_waiting: int
    signing_key: SigningKey | None
    signing_key_age_days: int | None
    signing_key_is_old: bool
    signing_key_warning_days: int

    @property
    def last_run_failed(self) -> bool:
        return (
            self.latest_run is not None and self.latest_run.status == PublicationRun.Status.FAILED
        )


@dataclass(frozen=True)
class FederationHealth:
    last_upload: FederationRun | None
    last_download: FederationRun | None
    uploads_waiting: int

    @property
    def failing(self) -> bool:
        return any(
            run is not None and run.status == FederationRun.Status.FAILED
            for run in (self.last_upload, self.last_download)
        )


@dataclass(frozen=True)
class HomePage:
    """Every section a home page may show; a role's page fills the ones that concern it."""

    can_issue: bool = False
    codes_of_today: CodesOfToday | None = None
    expiring: list[Otp] = field(default_factory=list)
    expiring_within_hours: int = int(EXPIRING_WITHIN.total_seconds() // 3600)
    show_issuer: bool = False
    region_today: RegionToday | None = None
    national_today: RegionToday | None = None
    people_to_watch: list[PersonToWatch] = field(default_factory=list)
    more_people_to_watch: int = 0
    surges: list[IssuanceSurge] = field(default_factory=list)
    surge_factor: int = field(default_factory=lambda: settings.OTP_SURGE_FACTOR)
    publication: PublicationHealth | None = None
    federation: FederationHealth | None = None
    guessing: Activity | None = None


def home_page(user: User) -> HomePage:
    """What `user`'s home page shows, by role (every rule from the permissions modules)."""
    can_issue = permissions.can_issue_codes(user)
    if permissions.is_administrator(user):
        return HomePage(
            national_today=_today(region=None),
            surges=issuance_surges(),
            publication=publication_health(),
            federation=federation_health(),
            guessing=guessing_under_way(),
        )
    if not permissions.is_regional_staff(user):
        return HomePage()
    assert user.region is not None  # regional staff
    if user.role == Role.SUPERVISOR:
        watch = people_to_watch(user)
        return HomePage(
            can_issue=can_issue,
            expiring=expiring_codes(user),
            show_issuer=True,
            region_today=_today(region=user.region),
            people_to_watch=watch[:LIST_LIMIT],
            more_people_to_watch=max(0, len(watch) - LIST_LIMIT),
            surges=issuance_surges(region=user.region),
        )
    return HomePage(
        can_issue=can_issue,
        codes_of_today=codes_of_today(user),
        expiring=expiring_codes(user),
    )


def _start_of_today() -> datetime:
    return datetime.combine(local_day(), time.min, tzinfo=timezone.get_current_timezone())


def codes_of_today(user: User) -> CodesOfToday:
    assert user.region is not None
    codes = list(
        codes_visible_to(user)
        .filter(created_at__gte=_start_of_today())
        .select_related("region", "issued_by", "api_key")[: LIST_LIMIT + 1]
    )
    return CodesOfToday(
        given=code_services.granted_today(region=user.region, operator=user),
        quota=settings.OTP_QUOTA_PER_OPERATOR_PER_DAY,
        codes=codes[:LIST_LIMIT],
        more=len(codes) > LIST_LIMIT,
    )


def expiring_codes(user: User) -> list[Otp]:
    """Codes this user sees that still wait for the app and stop working soon, soonest first."""
    now = timezone.now()
    usable = codes_visible_to(user) & Otp.objects.usable(now)
    return list(
        usable.filter(expires_at__lte=now + EXPIRING_WITHIN)
        .select_related("region", "issued_by", "api_key")
        .order_by("expires_at", "id")[:LIST_LIMIT]
    )


_TODAY_METRICS = {
    code_metrics.OTP_ISSUED: "issued",
    code_metrics.OTP_AUTHORIZED: "authorized",
    code_metrics.OTP_REDEEMED: "redeemed",
    code_metrics.OTP_EXPIRED: "expired",
    code_metrics.OTP_REVOKED: "revoked",
}


def _today(*, region: Region | None) -> RegionToday:
    """Today's codes from the daily counters: one region's, or the country's (region None).

    Redemptions may be buffered (STATISTICS_BUFFERED): they show up within a flush interval.
    """
    counters = DailyCounter.objects.filter(day=local_day(), metric__in=list(_TODAY_METRICS))
    if region is not None:
        counters = counters.filter(region_id=region.pk)
    totals = dict(counters.values_list("metric").annotate(total=Sum("value")).order_by())
    figures = {name: totals.get(metric, 0) for metric, name in _TODAY_METRICS.items()}
    return RegionToday(region=region, **figures)  # type: ignore[arg-type]


def people_to_watch(user: User) -> list[PersonToWatch]:
    """Active people this user manages who cannot work now: locked out after failed logins,
    invited but without a password yet, or without an authenticator app."""
    people = list(
        permissions.users_visible_to(user)
        .filter(is_active=True)
        .exclude(pk=user.pk)
        .annotate(enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
        .only("id", "username", "first_name", "last_name", "password", "role", "region_id")
        .order_by("last_name", "first_name", "username")
    )
    locked = _locked_out_usernames([person.username for person in people])
    watch = []
    for person in people:
        if person.username in locked:
            watch.append(PersonToWatch(person, PersonToWatch.LOCKED_OUT))
        elif not person.has_usable_password():
            watch.append(PersonToWatch(person, PersonToWatch.INVITATION_PENDING))
        elif not person.enrolled:
            watch.append(PersonToWatch(person, PersonToWatch.NO_SECOND_FACTOR))
    # Locked-out people first: they are the ones waiting for someone to act.
    return sorted(watch, key=lambda item: item.reason != PersonToWatch.LOCKED_OUT)


def _locked_out_usernames(usernames: list[str]) -> set[str]:
    """Accounts that django-axes locks now: their failure counters (kept in the cache only,
    per account) have reached the limit. One round trip for everyone."""
    keys_by_username = {
        username: get_client_cache_keys(AccessAttempt(username=username)) for username in usernames
    }
    counts = get_cache().get_many([key for keys in keys_by_username.values() for key in keys])
    return {
        username
        for username, keys in keys_by_username.items()
        if max((counts.get(key, 0) for key in keys), default=0) >= settings.AXES_FAILURE_LIMIT
    }


def publication_health(*, now: datetime | None = None) -> PublicationHealth:
    now = now or timezone.now()
    last_batch = (
        Batch.objects.filter(status=Batch.Status.PUBLISHED, published_at__isnull=False)
        .order_by("-published_at", "-id")
        .first()
    )
    last_success = (
        PublicationRun.objects.filter(status=PublicationRun.Status.SUCCEEDED)
        .exclude(finished_at=None)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    signing_key = key_selectors.active_signing_keys().first()
    age_days = (now - signing_key.created_at).days if signing_key else None
    warning_days = settings.SIGNING_KEY_WARNING_DAYS
    return PublicationHealth(
        last_batch=last_batch,
        latest_run=key_selectors.latest_run(),
        missed_run_at=_missed_publication(last_success, now),
        keys_waiting=int(
            cache.get_or_set(
                "home:keys-waiting", key_selectors.unpublished_key_count, KEYS_WAITING_SECONDS
            )
            or 0
        ),
        signing_key=signing_key,
        signing_key_age_days=age_days,
        signing_key_is_old=age_days is not None and age_days > warning_days,
        signing_key_warning_days=warning_days,
    )


def _missed_publication(last_success: datetime | None, now: datetime) -> datetime | None:
    """The first scheduled publication (PUBLICATION_SCHEDULE, in the authority's time zone)
    after the last successful one, when it should have finished by now: a worker or beat that
    stopped, or runs that keep failing. None while on time, or before the first publication."""
    if last_success is None:
        return None
    minute, hour, day_of_month, month, day_of_week = settings.PUBLICATION_SCHEDULE.split()
    schedule = crontab(minute, hour, day_of_week, day_of_month, month, nowfun=lambda: now)
    since, delta, _now = schedule.remaining_delta(last_success, tz=timezone.get_current_timezone())
    due = since + delta
    # A run may queue for PUBLICATION_QUEUE_TIMEOUT_MINUTES and work for its time limit.
    grace = timedelta(
        minutes=settings.PUBLICATION_QUEUE_TIMEOUT_MINUTES,
        seconds=settings.PUBLICATION_TIME_LIMIT_SECONDS,
    )
    return due if due + grace < now else None


def federation_health() -> FederationHealth | None:
    """The gateway's last runs and the uploads it has not answered, when federation is on."""
    if not federation_configuration.enabled():
        return None

    def last(kind: str) -> FederationRun | None:
        return FederationRun.objects.filter(kind=kind).order_by("-started_at", "-id").first()

    return FederationHealth(
        last_upload=last(FederationRun.Kind.UPLOAD),
        last_download=last(FederationRun.Kind.DOWNLOAD),
        uploads_waiting=OutboundBatch.objects.filter(status=OutboundBatch.Status.PENDING).count(),
    )
