"""Counting the apps' operational info: attested, once a month per device and kind, counters only.

Nothing of a report is stored but additions to daily counters (DESIGN.md 3.5). What the
once-a-month rule needs lives in the cache only, under keyed hashes, until the month it
serves is over: never a salt, a device token or an analytics token as sent.

- Android: a report counts when its salt was not seen this month and its attestation
  verifies. The request spends the salt and hands the report over (`receive_android_report`,
  authority.ingestion.analytics.handoff); a Celery task verifies and counts it
  (`verify_android_report`), as Immuni's did. The request never waits for Google, so a real
  report takes the time a dummy takes, and a replayed body costs no verification.
- iOS (Immuni's protocol): the app has its random analytics token authorized once
  (`authorize_apple_token`, after Apple's DeviceCheck), which allows one report of each kind
  this month and next; a report consumes its kind's allowance.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from authority.ingestion.analytics import handoff, metrics
from authority.ingestion.analytics.attestation import OperationalInfoReport, verifier
from authority.statistics.services import increment, local_day

_KINDS = ("with-exposure", "without-exposure")


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def seconds_to_end_of_month(now: datetime | None = None, *, months: int = 1) -> int:
    """Until midnight of the first day of the `months`-th next month, in the authority's time
    zone (1: the end of this month)."""
    now = timezone.localtime(now or timezone.now())
    end_day = now.date()
    for _ in range(months):
        end_day = _first_of_next_month(end_day)
    end = datetime.combine(end_day, time.min, tzinfo=now.tzinfo)
    # Not `end - now`: of two datetimes sharing one tzinfo Python subtracts the wall clocks,
    # missing the hour gained or lost when daylight saving time begins or ends.
    return max(1, int(end.timestamp() - now.timestamp()))


def _keyed(*parts: str) -> str:
    """A keyed hash of what identifies a device for the month: useless without SECRET_KEY."""
    secret = hmac.new(settings.SECRET_KEY.encode(), b"operational-info", hashlib.sha256).digest()
    return hmac.new(secret, "|".join(parts).encode(), hashlib.sha256).hexdigest()


def _month(day: date | None = None) -> str:
    return (day or local_day()).strftime("%Y-%m")


def _count(report: OperationalInfoReport, *, day: date | None = None) -> None:
    day = day or local_day()
    region_id = report.region_id  # NATIONAL for `EX`: in the national figures only
    flags = [
        (metrics.EXPOSURE_NOTIFICATIONS, report.exposure_notification),
        (metrics.EXPOSURE_PERMISSION_ON, report.exposure_permission),
        (metrics.BLUETOOTH_ON, report.bluetooth_active),
        (metrics.NOTIFICATION_PERMISSION_ON, report.notification_permission),
    ]
    with transaction.atomic():
        increment(metrics.APP_REPORTS, region_id=region_id, bucket=report.platform, day=day)
        for metric, on in flags:
            if on:
                increment(metric, region_id=region_id, day=day)


def _refused(reason: str) -> bool:
    increment(metrics.APP_REPORTS_REFUSED, bucket=reason)
    return False


# --- Android -----------------------------------------------------------------------------------


def receive_android_report(*, report: OperationalInfoReport) -> str | None:
    """The request's part: spend the report's salt for this month and hand the report over;
    the ticket for `verify_android_report`, or None for a salt already spent (a replay, which
    costs no verification). The caller answers alike either way."""
    key = f"opinfo:{_keyed(report.platform, report.kind, _month(), report.salt)}"
    # `add` is atomic: of two simultaneous reports with one salt, exactly one goes on.
    if not cache.add(key, 1, timeout=seconds_to_end_of_month()):
        _refused(metrics.REFUSED_REPEAT)
        return None
    return handoff.hand_over({"report": _payload(report), "day": local_day().isoformat()})


def verify_android_report(*, ticket: str) -> bool:
    """The worker's part: add the report to its region's counters for the day it came in, if
    its attestation verifies; False when refused, or when the ticket opens nothing (expired,
    or taken by a copy of this task)."""
    handed_over = handoff.take_over(ticket)
    if handed_over is None:
        return False
    report = _report(handed_over["report"])
    if not verifier().verify_android(report):  # may call Google: no transaction here
        return _refused(metrics.REFUSED_ATTESTATION)
    _count(report, day=date.fromisoformat(handed_over["day"]))
    return True


def _payload(report: OperationalInfoReport) -> dict[str, Any]:
    fields = asdict(report)
    fields["last_risky_exposure_on"] = report.last_risky_exposure_on.isoformat()
    return fields


def _report(payload: dict[str, Any]) -> OperationalInfoReport:
    last_risky_exposure_on = date.fromisoformat(payload["last_risky_exposure_on"])
    return OperationalInfoReport(**{**payload, "last_risky_exposure_on": last_risky_exposure_on})


# --- iOS ---------------------------------------------------------------------------------------


def _allowance_key(token: str, month: str, kind: str) -> str:
    return f"opinfo:ios:{_keyed('allowance', token, month, kind)}"


def _authorized_key(token: str, month: str) -> str:
    return f"opinfo:ios:{_keyed('authorized', token, month)}"


def apple_token_authorized(*, analytics_token: str) -> bool:
    """Whether the token may still report this month (Immuni answered 201 then, 202 before)."""
    month = _month()
    keys = [_allowance_key(analytics_token, month, kind) for kind in _KINDS]
    return bool(cache.get_many(keys))


def request_apple_token_authorization(*, analytics_token: str, device_token: str) -> str:
    """The request's part: hand both tokens over for `authorize_handed_over_apple_token`; the
    ticket to give it (the tokens never wait in the broker)."""
    return handoff.hand_over({"analytics_token": analytics_token, "device_token": device_token})


def authorize_handed_over_apple_token(*, ticket: str) -> bool:
    """The worker's part: `authorize_apple_token` with the tokens the ticket opens; False
    when it opens nothing (expired, or taken by a copy of this task)."""
    handed_over = handoff.take_over(ticket)
    if handed_over is None:
        return False
    return authorize_apple_token(
        analytics_token=handed_over["analytics_token"], device_token=handed_over["device_token"]
    )


def authorize_apple_token(*, analytics_token: str, device_token: str) -> bool:
    """Allow the token one report of each kind this month and next, once the device token
    verifies; a token is authorized once a month, however often the app asks."""
    if not verifier().verify_apple_device(device_token):  # may call Apple: no transaction
        return False
    today = local_day()
    for months_ahead, month in enumerate((_month(today), _month(_first_of_next_month(today)))):
        timeout = seconds_to_end_of_month(months=months_ahead + 1)
        if not cache.add(_authorized_key(analytics_token, month), 1, timeout=timeout):
            continue  # authorized before this month: its allowances are spent or still there
        cache.set_many(
            {_allowance_key(analytics_token, month, kind): 1 for kind in _KINDS}, timeout=timeout
        )
    return True


def record_apple_report(*, report: OperationalInfoReport, analytics_token: str) -> bool:
    """Add one report to today's counters of its region, using up its token's allowance for
    this month and kind; False when the token has none (never authorized, or already used)."""
    month = _month()
    # `delete` is atomic: of two simultaneous reports with one token, exactly one counts.
    if not cache.delete(_allowance_key(analytics_token, month, report.kind)):
        authorized = cache.get(_authorized_key(analytics_token, month)) is not None
        return _refused(metrics.REFUSED_REPEAT if authorized else metrics.REFUSED_ATTESTATION)
    _count(report)
    return True
