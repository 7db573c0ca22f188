"""Workflows of patient codes: issue, authorize, revoke, check, redeem, expire and forget.

The code in clear exists only in memory: it is returned once by `issue_otp` and never
stored or logged; everything else works on the keyed hash of its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authority.accounts import permissions
from authority.accounts.models import Region, User
from authority.audit.models import Action
from authority.audit.services import record_event
from authority.formats.otp import generate_otp, otp_sha256_hex
from authority.otps import metrics
from authority.otps.models import ApiKey, OnsetKind, Otp, OtpOrigin, OtpState
from authority.otps.permissions import api_keys_visible_to, can_revoke_code
from authority.statistics.models import DailyCounter
from authority.statistics.services import increment, local_day

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_CLOSED_STATES = (OtpState.REDEEMED, OtpState.EXPIRED, OtpState.REVOKED)

QuotaScope = Literal["operator", "region"]


# --- Errors the views turn into messages -----------------------------------------------------


class OtpAlreadyAuthorizedError(Exception):
    """The code (or its hash) is already known: authorized, issued, used or expired recently."""


class OtpQuotaReachedError(Exception):
    def __init__(self, scope: QuotaScope, limit: int) -> None:
        super().__init__(f"daily {scope} quota of {limit} codes reached")
        self.scope: QuotaScope = scope
        self.limit = limit

    @property
    def message(self) -> str:
        if self.scope == "operator":
            return str(
                _(
                    "You have reached your limit of %(limit)s codes for today. If more patients need"
                    " a code, ask your supervisor."
                )
                % {"limit": self.limit}
            )
        return str(
            _(
                "Your region has reached its limit of %(limit)s codes for today. Ask a national"
                " administrator if this limit is too low."
            )
            % {"limit": self.limit}
        )


# --- Results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedOtp:
    """A new code: `code` is the clear text, to show once and then forget."""

    otp: Otp
    code: str

    @property
    def expires_at(self) -> datetime:
        return self.otp.expires_at


@dataclass(frozen=True)
class RedeemedOtp:
    """What an upload needs to know about the code it consumed."""

    onset_date: date
    onset_kind: str
    region: Region


@dataclass(frozen=True)
class CreatedApiKey:
    """A new API key: `key` is the clear text, shown once."""

    api_key: ApiKey
    key: str


# --- Hashing ---------------------------------------------------------------------------------


def keyed_hash(otp_sha256_hex: str, key: str | None = None) -> str:
    """What the database keeps of a code: HMAC-SHA256 of the hex SHA-256 the app sends,
    under OTP_HMAC_KEY (or `key`)."""
    secret = settings.OTP_HMAC_KEY if key is None else key
    return hmac.new(
        secret.encode(), otp_sha256_hex.lower().encode("ascii"), hashlib.sha256
    ).hexdigest()


def keyed_hashes(otp_sha256_hex: str) -> list[str]:
    """The code's hash under the current key, then under each key being rotated out
    (OTP_HMAC_KEY_FALLBACKS): codes given before a rotation stay usable until they expire."""
    return [keyed_hash(otp_sha256_hex), *_previous_hashes(otp_sha256_hex)]


def _previous_hashes(otp_sha256_hex: str) -> list[str]:
    return [keyed_hash(otp_sha256_hex, key) for key in settings.OTP_HMAC_KEY_FALLBACKS]


def _hash_of_code(code: str) -> str:
    return keyed_hash(otp_sha256_hex(code))


def _known_under_a_previous_key(code: str) -> bool:
    """The same code stored before a rotation (the unique index sees only the current hash)."""
    previous = _previous_hashes(otp_sha256_hex(code))
    return bool(previous) and Otp.objects.filter(code_hmac__in=previous).exists()


def api_key_hash(key: str) -> str:
    # Keys are 256 random bits: a plain hash cannot be reversed, no slow hash is needed.
    return hashlib.sha256(key.encode()).hexdigest()


# --- Onset date ------------------------------------------------------------------------------


def validate_onset_date(onset_date: date, *, today: date | None = None) -> None:
    """Raise ValidationError unless the date is neither in the future nor too long ago."""
    today = today or local_day()
    max_age = settings.OTP_ONSET_MAX_AGE_DAYS
    if onset_date > today:
        raise ValidationError(_("The date cannot be in the future."), code="future")
    if onset_date < today - timedelta(days=max_age):
        raise ValidationError(
            _(
                "The date cannot be more than %(days)s days ago: keys older than that are of no"
                " use to the people the patient met."
            ),
            code="too_old",
            params={"days": max_age},
        )


# --- Issuing and authorizing ------------------------------------------------------------------


def issue_otp(
    *,
    onset_date: date,
    onset_kind: OnsetKind = OnsetKind.SYMPTOMS,
    operator: User | None = None,
    api_key: ApiKey | None = None,
) -> IssuedOtp:
    """Generate a code for a positive patient; only its keyed hash is stored."""
    region = _granting_region(operator=operator, api_key=api_key)
    validate_onset_date(onset_date)
    now = timezone.now()
    with transaction.atomic():
        refusal = _quota_refusal(region, operator)
        if refusal is None:
            code, otp = _create_unique_otp(
                Otp(
                    origin=OtpOrigin.ISSUED,
                    region=region,
                    onset_date=onset_date,
                    onset_kind=onset_kind,
                    issued_by=operator,
                    api_key=api_key,
                    created_at=now,
                    expires_at=now + timedelta(hours=settings.OTP_ISSUED_TTL_HOURS),
                )
            )
            _count_and_audit_grant(otp, operator=operator, api_key=api_key)
            return IssuedOtp(otp=otp, code=code)
        _audit_quota_refusal(refusal, region=region, operator=operator, api_key=api_key)
    raise refusal


def authorize_otp(
    *,
    code: str,
    onset_date: date,
    onset_kind: OnsetKind = OnsetKind.SYMPTOMS,
    operator: User | None = None,
    api_key: ApiKey | None = None,
) -> Otp:
    """Make a code generated by the patient's app usable for a short time.

    `code` must already be valid (authority.formats.otp.parse_otp).
    """
    region = _granting_region(operator=operator, api_key=api_key)
    validate_onset_date(onset_date)
    now = timezone.now()
    with transaction.atomic():
        refusal = _quota_refusal(region, operator)
        if refusal is None:
            otp = Otp(
                code_hmac=_hash_of_code(code),
                origin=OtpOrigin.AUTHORIZED,
                region=region,
                onset_date=onset_date,
                onset_kind=onset_kind,
                issued_by=operator,
                api_key=api_key,
                created_at=now,
                expires_at=now + timedelta(minutes=settings.OTP_AUTHORIZED_TTL_MINUTES),
            )
            if _known_under_a_previous_key(code):
                raise OtpAlreadyAuthorizedError
            try:
                with transaction.atomic():
                    otp.save()
            except IntegrityError:
                raise OtpAlreadyAuthorizedError from None
            _count_and_audit_grant(otp, operator=operator, api_key=api_key)
            return otp
        _audit_quota_refusal(refusal, region=region, operator=operator, api_key=api_key)
    raise refusal


def _granting_region(*, operator: User | None, api_key: ApiKey | None) -> Region:
    """Codes come from a regional operator or from an active API key, never from both."""
    if (operator is None) == (api_key is None):
        raise ValueError("Give exactly one of operator and api_key")
    if operator is not None:
        if not permissions.can_issue_codes(operator) or operator.region is None:
            raise PermissionDenied
        return operator.region
    assert api_key is not None
    if not api_key.is_active or not api_key.region.is_active:
        raise PermissionDenied
    return api_key.region


def _create_unique_otp(otp: Otp) -> tuple[str, Otp]:
    """Save `otp` with a new random code; returns the code in clear, to show once."""
    # 25^9 possible codes: a collision with a live one is unlikely but must not fail the issue.
    for _attempt in range(5):
        code = generate_otp()
        if _known_under_a_previous_key(code):
            continue
        otp.code_hmac = _hash_of_code(code)
        try:
            with transaction.atomic():
                otp.save(force_insert=True)
        except IntegrityError:
            otp.pk = None
            continue
        return code, otp
    raise RuntimeError("Could not generate an unused code")


def granted_today(*, region: Region, operator: User | None = None) -> int:
    """Codes issued or authorized today in the region, or by one operator."""
    counters = DailyCounter.objects.filter(
        day=local_day(), metric__in=metrics.GRANTED, region_id=region.pk
    )
    if operator is not None:
        counters = counters.filter(operator_id=operator.pk)
    return counters.aggregate(total=Sum("value"))["total"] or 0


def _quota_refusal(region: Region, operator: User | None) -> OtpQuotaReachedError | None:
    # Locking the region's row makes concurrent grants of one region take turns, so a quota
    # cannot be overrun by simultaneous requests.
    Region.objects.select_for_update().filter(pk=region.pk).first()
    if operator is not None:
        limit = settings.OTP_QUOTA_PER_OPERATOR_PER_DAY
        if granted_today(region=region, operator=operator) >= limit:
            return OtpQuotaReachedError("operator", limit)
    limit = settings.OTP_QUOTA_PER_REGION_PER_DAY
    if granted_today(region=region) >= limit:
        return OtpQuotaReachedError("region", limit)
    return None


def _count_and_audit_grant(otp: Otp, *, operator: User | None, api_key: ApiKey | None) -> None:
    issued = otp.origin == OtpOrigin.ISSUED
    increment(
        metrics.OTP_ISSUED if issued else metrics.OTP_AUTHORIZED,
        region_id=otp.region_id,
        operator_id=operator.pk if operator else None,
    )
    record_event(
        action=Action.OTP_ISSUED if issued else Action.OTP_AUTHORIZED,
        actor=operator,
        actor_username=api_key.audit_name if api_key else "",
        region=otp.region,
        target=otp.reference,
        details={"expires_at": otp.expires_at.isoformat(), "via": "api" if api_key else "web"},
    )


def _audit_quota_refusal(
    refusal: OtpQuotaReachedError,
    *,
    region: Region,
    operator: User | None,
    api_key: ApiKey | None,
) -> None:
    record_event(
        action=Action.OTP_QUOTA_REACHED,
        actor=operator,
        actor_username=api_key.audit_name if api_key else "",
        region=region,
        details={"scope": refusal.scope, "limit": refusal.limit},
    )


# --- Revoking --------------------------------------------------------------------------------


def revoke_otp(*, actor: User, otp: Otp) -> bool:
    """Stop a pending code from working; False when it was no longer pending."""
    if not can_revoke_code(actor, otp):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        revoked = (
            Otp.objects.usable(now).filter(pk=otp.pk).update(state=OtpState.REVOKED, closed_at=now)
        )
        if revoked != 1:
            return False
        increment(metrics.OTP_REVOKED, region_id=otp.region_id)
        record_event(
            action=Action.OTP_REVOKED, actor=actor, region=otp.region, target=otp.reference
        )
    otp.refresh_from_db()
    return True


# --- What the device API calls ----------------------------------------------------------------


def _lookup_hashes(otp_sha256_hex: str) -> list[str]:
    """The keyed hashes to look the code up by; none when it is not a hex SHA-256."""
    normalized = otp_sha256_hex.strip().lower()
    if not _SHA256_HEX.fullmatch(normalized):
        return []
    # Comparison happens in the database index on the keyed hash: the response time says
    # nothing about the secret key, and the hash is useless without it.
    return keyed_hashes(normalized)


def check_otp(*, otp_sha256_hex: str) -> bool:
    """True when the code is authorized, unused, unrevoked and unexpired. Consumes nothing."""
    hashes = _lookup_hashes(otp_sha256_hex)
    return bool(hashes) and Otp.objects.usable().filter(code_hmac__in=hashes).exists()


def redeem_otp(*, otp_sha256_hex: str) -> RedeemedOtp | None:
    """Consume a usable code exactly once, even under concurrent attempts; None otherwise."""
    hashes = _lookup_hashes(otp_sha256_hex)
    if not hashes:
        return None
    now = timezone.now()
    # No savepoint: inside an upload's transaction it would cost two round trips, and a
    # failure here rolls the whole upload back anyway.
    with transaction.atomic(savepoint=False):
        otp = Otp.objects.usable(now).filter(code_hmac__in=hashes).select_related("region").first()
        if otp is None:
            return None
        claimed = (
            Otp.objects.usable(now).filter(pk=otp.pk).update(state=OtpState.REDEEMED, closed_at=now)
        )
        if claimed != 1:
            return None
        increment(metrics.OTP_REDEEMED, region_id=otp.region_id)
        increment(
            metrics.OTP_TIME_TO_REDEEM,
            region_id=otp.region_id,
            bucket=metrics.time_to_redeem_bucket(now - otp.created_at),
        )
    return RedeemedOtp(onset_date=otp.onset_date, onset_kind=otp.onset_kind, region=otp.region)


# --- Housekeeping ------------------------------------------------------------------------------


def expire_overdue_otps(*, now: datetime | None = None) -> int:
    """Mark pending codes past their expiry as expired, counting them per region."""
    now = now or timezone.now()
    overdue = Otp.objects.filter(state=OtpState.PENDING, expires_at__lte=now)
    total = 0
    for region_id in sorted(set(overdue.values_list("region_id", flat=True))):
        with transaction.atomic():
            # The update claims the rows: a second run at the same time finds none to count.
            expired = overdue.filter(region_id=region_id).update(
                state=OtpState.EXPIRED, closed_at=F("expires_at")
            )
            if expired:
                increment(
                    metrics.OTP_EXPIRED, region_id=region_id, amount=expired, day=local_day(now)
                )
        total += expired
    return total


def purge_closed_otps(*, now: datetime | None = None) -> int:
    """Delete rows of codes closed longer ago than the grace period: counters remain."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.OTP_RECORD_GRACE_HOURS)
    deleted, _by_model = Otp.objects.filter(
        state__in=_CLOSED_STATES, closed_at__lte=cutoff
    ).delete()
    return deleted


# --- API keys ------------------------------------------------------------------------------------


def create_api_key(*, actor: User, region: Region, name: str) -> CreatedApiKey:
    if not permissions.api_key_regions(actor).filter(pk=region.pk).exists():
        raise PermissionDenied
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            name=name,
            region=region,
            prefix=key[:8],
            key_hash=api_key_hash(key),
            created_by=actor,
        )
        record_event(
            action=Action.API_KEY_CREATED,
            actor=actor,
            region=region,
            target=api_key.audit_name,
        )
    return CreatedApiKey(api_key=api_key, key=key)


def revoke_api_key(*, actor: User, api_key: ApiKey) -> bool:
    """Stop a key from working at once; False when it was already revoked."""
    if not api_keys_visible_to(actor).filter(pk=api_key.pk).exists():
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor
        )
        if revoked:
            record_event(
                action=Action.API_KEY_REVOKED,
                actor=actor,
                region=api_key.region,
                target=api_key.audit_name,
            )
    api_key.refresh_from_db()
    return bool(revoked)


def authenticate_api_key(key: str) -> ApiKey | None:
    """The active key with this value, its last use noted; None for unknown or revoked keys."""
    if not key or len(key) > 200:
        return None
    api_key = (
        ApiKey.objects.filter(key_hash=api_key_hash(key), revoked_at__isnull=True)
        .select_related("region")
        .first()
    )
    if api_key is None:
        return None
    now = timezone.now()
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
    return api_key
