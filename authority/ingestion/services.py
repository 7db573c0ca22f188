"""What the device API does with a valid request: check a code, or consume it and keep the keys."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from authority.federation.sharing import offer_for_sharing
from authority.ingestion import metrics
from authority.keys.services.storing import UploadedKey, store_uploaded_keys
from authority.otps.services import RedeemedOtp, check_otp, redeem_otp
from authority.statistics.models import NATIONAL
from authority.statistics.services import increment, local_day


def check(*, otp_sha256_hex: str) -> bool:
    if check_otp(otp_sha256_hex=otp_sha256_hex):
        return True
    _count_failure(metrics.CHECK_OTP)
    return False


def upload(*, otp_sha256_hex: str, upload: dict[str, Any]) -> bool:
    """Consume the OTP and store the keys, all or nothing; False when the OTP is not usable."""
    province = upload["province"]
    teks = upload["teks"]
    with transaction.atomic():
        redeemed = redeem_otp(otp_sha256_hex=otp_sha256_hex)
        if redeemed is None:
            _count_failure(metrics.UPLOAD)
            return False
        # The upload counts for the region of the patient's province; `EX` (abroad) for none:
        # in the national figures only (region_id NATIONAL).
        region_id = province.region_id
        keys = [
            UploadedKey(
                key_data=tek["key_data"],
                rolling_start_interval_number=tek["rolling_start_number"],
                rolling_period=tek["rolling_period"],
            )
            for tek in teks
        ]
        today = local_day()
        store_uploaded_keys(
            keys=keys,
            region_id=_region_of_keys(region_id, redeemed),
            onset_date=redeemed.onset_date,
            uploaded_on=today,
        )
        # The countries the patient visited are their consent to share these keys there
        # (docs/federation.md); none, or none we share with, shares nothing.
        offer_for_sharing(
            keys=keys,
            countries=upload.get("countries_of_interest") or [],
            onset_date=redeemed.onset_date,
            onset_kind=redeemed.onset_kind,
            uploaded_on=today,
        )
        _count_upload(
            region_id=region_id,
            key_count=len(teks),
            summaries=upload["exposure_detection_summaries"],
        )
    return True


def _region_of_keys(region_id: int, redeemed: RedeemedOtp) -> int:
    """The region a key row belongs to: the province's, or for a patient living abroad the
    region whose code let the keys in (a key row needs one; it is never published)."""
    return redeemed.region.pk if region_id == NATIONAL else region_id


def _count_failure(endpoint: str) -> None:
    increment(metrics.FAILED_OTP_CHECKS, bucket=endpoint)


def _count_upload(*, region_id: int, key_count: int, summaries: list[dict[str, Any]]) -> None:
    increment(metrics.UPLOADS, region_id=region_id)
    increment(metrics.KEYS_PER_UPLOAD, region_id=region_id, bucket=str(key_count))
    if key_count:
        increment(metrics.UPLOADS_WITH_KEYS, region_id=region_id)
    if summaries:
        # The app had warned this person of an exposure before they tested positive.
        increment(metrics.UPLOADERS_NOTIFIED, region_id=region_id)
        nearest = min(summary["days_since_last_exposure"] for summary in summaries)
        increment(
            metrics.DAYS_SINCE_LAST_EXPOSURE,
            region_id=region_id,
            bucket=metrics.days_bucket(nearest),
        )
