"""Counting the apps' operational info: attested, once a month per device and kind, counters only.

Nothing of a report is stored but additions to daily counters (DESIGN.md 3.5). The
once-a-month rule keeps, in the cache only and until the end of the month, an HMAC of the
report's attestation proof (salt or device token): no device identifier is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from authority.dashboard import metrics
from authority.dashboard.attestation import OperationalInfoReport, verifier
from authority.statistics.services import increment, local_day


def seconds_to_end_of_month(now: datetime | None = None) -> int:
    """Until midnight of the first day of next month, in the authority's time zone."""
    now = timezone.localtime(now or timezone.now())
    first_of_next = (now.date().replace(day=28) + timedelta(days=4)).replace(day=1)
    end = datetime.combine(first_of_next, time.min, tzinfo=now.tzinfo)
    # Not `end - now`: of two datetimes sharing one tzinfo Python subtracts the wall clocks,
    # missing the hour gained or lost when daylight saving time begins or ends.
    return max(1, int(end.timestamp() - now.timestamp()))


def _once_a_month_key(report: OperationalInfoReport, device_proof: str) -> str:
    month = local_day().strftime("%Y-%m")
    secret = hmac.new(settings.SECRET_KEY.encode(), b"operational-info", hashlib.sha256).digest()
    message = f"{report.platform}|{report.kind}|{month}|{device_proof}".encode()
    return f"opinfo:{hmac.new(secret, message, hashlib.sha256).hexdigest()}"


def record_operational_info(*, report: OperationalInfoReport) -> bool:
    """Add one report to today's counters of its region; False when refused or a repeat."""
    verdict = verifier().verify(report)  # may call the platform's servers: no transaction here
    if not verdict.genuine:
        increment(metrics.APP_REPORTS_REFUSED, bucket=metrics.REFUSED_ATTESTATION)
        return False
    # `add` is atomic: of two simultaneous reports with one proof, exactly one counts.
    first = cache.add(
        _once_a_month_key(report, verdict.device_proof), 1, timeout=seconds_to_end_of_month()
    )
    if not first:
        increment(metrics.APP_REPORTS_REFUSED, bucket=metrics.REFUSED_REPEAT)
        return False
    day = local_day()
    region_id = report.region_id
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
    return True
