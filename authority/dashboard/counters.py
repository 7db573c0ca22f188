"""The stored counters as the statistics pages read them: by area (a region, or abroad) or
for the country only, and the names of the areas."""

from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from authority.federation import metrics as federation_metrics
from authority.ingestion import metrics as device_metrics
from authority.ingestion.analytics import metrics as app_metrics
from authority.keys import metrics as key_metrics
from authority.otps import metrics as code_metrics

# Counters kept for the whole country only (region_id = NATIONAL means "the country" for
# them). Every other counter is kept per region, and its NATIONAL rows are the uploads and
# reports of people who live abroad (province EX): the line "Abroad (EX)".
NATIONAL_ONLY = frozenset(
    {
        device_metrics.REAL_REQUESTS,
        device_metrics.DUMMY_REQUESTS,
        device_metrics.THROTTLED_REQUESTS,
        device_metrics.FAILED_OTP_CHECKS,
        key_metrics.BATCHES_PUBLISHED,
        key_metrics.PADDING_KEYS_PUBLISHED,
        app_metrics.APP_REPORTS_REFUSED,
        # The exchange with the European gateway is the country's.
        federation_metrics.KEYS_SHARED,
        federation_metrics.KEYS_SHARED_WITH,
        federation_metrics.KEYS_RECEIVED,
        federation_metrics.KEYS_INVALID,
        federation_metrics.KEYS_REFUSED,
        federation_metrics.CHUNKS_REFUSED,
        federation_metrics.UPLOADS_REFUSED,
    }
)

ABROAD_CODE = "EX"
ABROAD_NAME = _("Abroad (EX)")


class Counter(NamedTuple):
    """One stored counter: all its buckets added up, or one bucket. (A tuple: it is a
    dictionary key in every figure looked up, and tuples hash fast.)"""

    metric: str
    bucket: str | None = None

    @property
    def national_only(self) -> bool:
        return self.metric in NATIONAL_ONLY


def counters(*metrics: str) -> tuple[Counter, ...]:
    return tuple(Counter(metric) for metric in metrics)


def all_metrics() -> tuple[str, ...]:
    """Every counter the system keeps (a day without one still shows its zero on /metrics)."""
    return (
        code_metrics.OTP_ISSUED,
        code_metrics.OTP_AUTHORIZED,
        code_metrics.OTP_REDEEMED,
        code_metrics.OTP_EXPIRED,
        code_metrics.OTP_REVOKED,
        code_metrics.OTP_TIME_TO_REDEEM,
        device_metrics.UPLOADS,
        device_metrics.UPLOADS_WITH_KEYS,
        device_metrics.KEYS_PER_UPLOAD,
        device_metrics.UPLOADERS_NOTIFIED,
        device_metrics.DAYS_SINCE_LAST_EXPOSURE,
        key_metrics.KEYS_STORED,
        key_metrics.KEYS_PUBLISHED,
        *app_metrics.OPERATIONAL_INFO_METRICS,
        *sorted(NATIONAL_ONLY),
    )
