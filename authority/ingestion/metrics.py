"""Names of the counters the device API feeds (DESIGN.md 3.5: counters only)."""

from __future__ import annotations

UPLOADS = "uploads"  # real uploads accepted, per region of the reported province
UPLOADS_WITH_KEYS = "uploads_with_keys"
# The keys themselves are counted as authority.keys.metrics.KEYS_STORED when stored.
KEYS_PER_UPLOAD = "keys_per_upload"  # histogram, bucket = number of keys ("0".."30")
UPLOADERS_NOTIFIED = "uploaders_notified"  # uploaders the app had warned of an exposure before
DAYS_SINCE_LAST_EXPOSURE = "days_since_last_exposure"  # histogram over notified uploaders
DUMMY_REQUESTS = "dummy_requests"  # national, bucket = endpoint
REAL_REQUESTS = "real_requests"  # national, bucket = endpoint
FAILED_OTP_CHECKS = "failed_otp_checks"  # national, bucket = endpoint
THROTTLED_REQUESTS = "throttled_requests"  # national, bucket = endpoint
# Well-formed keys of accepted uploads that were not stored, national, bucket = why
# (serializers.TOO_OLD, IN_THE_FUTURE, INTERVAL_REPEATED): many "future" or "too-old" say
# phones' clocks are off, or a client is not a phone.
KEYS_LEFT_OUT = "keys_left_out"

CHECK_OTP = "check-otp"
UPLOAD = "upload"


def days_bucket(days: int) -> str:
    """Days since the last exposure, with everything past two weeks in one bucket."""
    return str(days) if days <= 14 else "15+"
