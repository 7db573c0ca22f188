"""Which keys of an upload are stored (authority.ingestion.key_rules): everything a genuine phone
holds, GAEN 1.5's re-opened keys included; what must not be published is left out, and the
rest of the upload goes ahead.

Google's cases are ported from google/exposure-notifications-server,
internal/publish/model/exposure_model_test.go (TestTransformOverlapping, TestPublishValidation).
"""

from __future__ import annotations

import os
from base64 import b64encode
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from authority.ingestion import metrics
from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from authority.statistics.models import DailyCounter
from tests.ingestion.conftest import Tek, todays_interval, upload_body

pytestmark = pytest.mark.django_db


def key(start: int, period: int = 144) -> Tek:
    """A key starting `start` intervals after yesterday's first: in the past at any hour."""
    return at(todays_interval() - 144 + start, period)


def at(interval: int, period: int = 144) -> Tek:
    return {
        "key_data": b64encode(os.urandom(16)).decode(),
        "rolling_start_number": interval,
        "rolling_period": period,
    }


def now_interval() -> int:
    return int(timezone.now().timestamp()) // 600


def stored() -> list[tuple[int, int]]:
    return sorted(
        ExposureKey.objects.values_list("rolling_start_interval_number", "rolling_period")
    )


def spans(teks: list[Tek]) -> list[tuple[int, int]]:
    return sorted((t["rolling_start_number"], t["rolling_period"]) for t in teks)


def left_out() -> dict[str, int]:
    return dict(
        DailyCounter.objects.filter(metric=metrics.KEYS_LEFT_OUT).values_list("bucket", "value")
    )


# --- GAEN 1.5: reading the keys closes today's and starts a new one at the same midnight --------


def test_gaen_1_5_a_retried_upload_with_todays_key_closed_and_reopened_is_stored(
    app_client, authorized_otp
):
    # Immuni Android reads the keys again on every upload attempt (ExposureManager.uploadTeks
    # -> requestTekHistory): after one failed attempt today's first key is closed at the
    # interval of that reading and a new key runs from the same midnight.
    today = todays_interval()
    closed_at = max(1, now_interval() - today)
    teks = [at(today, closed_at), at(today, 144)] + [at(today - 144 * d) for d in range(1, 14)]
    response = app_client.upload(authorized_otp, upload_body(teks))
    assert response.status_code == 204
    assert stored() == spans(teks)
    assert Otp.objects.get().state == OtpState.REDEEMED
    assert left_out() == {}


def test_gaen_1_5_keys_read_twice_in_one_interval_keep_one_key_for_that_interval(
    app_client, authorized_otp
):
    # Two readings within ten minutes (a retry at once) close two keys at the same interval:
    # two keys with one (start, period). One is published (DESIGN.md 7: no two keys for the
    # same interval), the upload goes ahead.
    today = todays_interval()
    closed_at = max(1, now_interval() - today)
    first, second, current = at(today, closed_at), at(today, closed_at), at(today, 144)
    yesterday = at(today - 144)
    response = app_client.upload(authorized_otp, upload_body([first, second, current, yesterday]))
    assert response.status_code == 204
    assert stored() == spans([first, current, yesterday])
    kept = {
        b64encode(bytes(k)).decode() for k in ExposureKey.objects.values_list("key_data", flat=True)
    }
    assert first["key_data"] in kept and second["key_data"] not in kept  # the first sent is kept
    assert left_out() == {"same-interval": 1}


def test_google_transform_overlapping_allowed_number_of_same_day_keys(app_client, authorized_otp):
    # Google: three keys per start interval (MAX_SAME_START_INTERVAL_KEYS, "compatibility with
    # the 1.5 release") on two days: accepted.
    two_days_ago, one_day_ago = todays_interval() - 288, todays_interval() - 144
    teks = [at(day, period) for day in (two_days_ago, one_day_ago) for period in (44, 88, 144)]
    assert app_client.upload(authorized_otp, upload_body(teks)).status_code == 204
    assert stored() == spans(teks)


def test_google_transform_overlapping_too_many_same_day_keys(app_client, authorized_otp):
    """Google refuses a fourth key with one start interval (here the 4th repeats the 2nd's
    period). Not here: a phone that retried its upload three times holds such keys for 14
    days, and every upload of it would be refused; the 30 keys bound the upload. The repeated
    (start, period) is left out, the three distinct keys stored."""
    two_days_ago = todays_interval() - 288
    teks = [at(two_days_ago, period) for period in (44, 88, 144, 88)]
    assert app_client.upload(authorized_otp, upload_body(teks)).status_code == 204
    assert stored() == spans(teks[:3])
    assert left_out() == {"same-interval": 1}


def test_a_phone_that_retried_many_times_has_every_key_stored(app_client, authorized_otp):
    today = todays_interval()
    teks = [at(today - 144, period) for period in (10, 20, 30, 40, 50, 144)]
    assert app_client.upload(authorized_otp, upload_body(teks)).status_code == 204
    assert len(stored()) == 6


@pytest.mark.parametrize(
    "case_spans",
    [
        [(0, 144), (144 - 2, 144)],  # invalid_overlap_in_order
        [(0, 144), (-144 + 1, 144)],  # invalid_overlap_out_of_order
        [(0, 144), (50, 10)],
        [(-144, 144), (0, 144), (143, 1)],
    ],
    ids=["in-order", "out-of-order", "inside", "last-interval-shared"],
)
def test_google_transform_overlapping_invalid_overlap_is_stored_here(
    app_client, authorized_otp, case_spans
):
    """Google refuses keys with different starts that overlap ("non aligned overlapping
    intervals"), the first two cases being its own. Here they are stored: publishing both
    harms no one, while refusing them would refuse every upload of a phone whose keys are so
    (a patient cannot change them); DESIGN.md 7's "no two keys for the same interval" is the
    same (start, period), as Immuni read it."""
    teks = [key(start, period) for start, period in case_spans]
    assert app_client.upload(authorized_otp, upload_body(teks)).status_code == 204
    assert stored() == spans(teks)


@pytest.mark.parametrize(
    "case_spans",
    [
        [(-144, 144), (0, 144)],
        [(0, 72), (72, 72)],
        [(0, 1), (1, 1), (2, 142)],
        [(0, 10), (100, 10)],
    ],
    ids=["consecutive-days", "half-days", "one-interval-keys", "with-a-gap"],
)
def test_keys_that_follow_each_other_are_stored(app_client, authorized_otp, case_spans):
    teks = [key(start, period) for start, period in case_spans]
    assert app_client.upload(authorized_otp, upload_body(teks)).status_code == 204
    assert stored() == spans(teks)
    assert Otp.objects.get().state == OtpState.REDEEMED


# --- Age: 14 days back, not in the future (a few minutes of clock skew allowed) ---------------


def test_a_key_older_than_14_days_is_left_out_and_the_others_stored(app_client, authorized_otp):
    # A patient cannot change what their phone holds: refusing the upload would refuse it on
    # every retry. The key would be deleted as soon as stored (DESIGN.md 3.8).
    today = todays_interval()
    fifteen_days = [at(today - 144 * d) for d in range(16)]  # today and 15 days back
    response = app_client.upload(authorized_otp, upload_body(fifteen_days))
    assert response.status_code == 204
    assert stored() == spans(fifteen_days[:15])  # midnight 14 days ago is the oldest taken
    assert left_out() == {"too-old": 1}
    assert Otp.objects.get().state == OtpState.REDEEMED


def test_google_publish_validation_interval_number_too_high_is_left_out(app_client, authorized_otp):
    """Google refuses a key starting after the current interval (TestPublishValidation,
    "interval number too high"); here the next interval is allowed (clock skew) and a key
    after it is left out, the rest stored."""
    now = now_interval()
    teks = [at(now + 2, 1), at(todays_interval() - 144)]
    assert app_client.upload(authorized_otp, upload_body(teks)).status_code == 204
    assert stored() == spans(teks[1:])
    assert left_out() == {"future": 1}


def test_a_phone_a_few_minutes_fast_just_before_midnight_utc_has_its_new_key_taken(
    app_client, authorized_otp
):
    # 23:55 UTC here; the phone, 8 minutes fast, is past midnight: its new key starts at the
    # interval that begins at our midnight, the next one.
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with time_machine.travel(midnight - timedelta(minutes=5), tick=False):
        new_day = now_interval() + 1
        teks = [at(new_day, 1), at(new_day - 144, 144)]
        response = app_client.upload(authorized_otp, upload_body(teks))
    assert response.status_code == 204
    assert stored() == spans(teks)
    assert left_out() == {}


def test_a_dummy_upload_with_keys_left_out_is_answered_as_a_real_one(app_client, authorized_otp):
    teks = [at(todays_interval() - 144 * 20), at(now_interval() + 10)]
    real = app_client.upload(authorized_otp, upload_body(teks))
    dummy = app_client.upload(None, upload_body(teks), dummy=True)
    assert real.status_code == dummy.status_code == 204
    assert real.content == dummy.content == b""
    assert left_out() == {"too-old": 1, "future": 1}  # the real upload's only


# --- Refused: what no phone sends --------------------------------------------------------------


def test_the_same_key_twice_is_refused_and_the_otp_survives(app_client, authorized_otp):
    first = key(0)
    response = app_client.upload(authorized_otp, upload_body([first, {**first}]))
    assert response.status_code == 400
    assert response.json() == {"error_code": 1001, "message": "teks: The same key appears twice."}
    assert not ExposureKey.objects.exists()
    assert Otp.objects.get().state == OtpState.PENDING
    # The app fixes its request and tries again with the same code.
    assert app_client.upload(authorized_otp, upload_body([key(0)])).status_code == 204


def test_the_refusal_is_worded_in_italian_for_italian_phones(app_client, authorized_otp):
    first = key(0)
    response = app_client.upload(
        authorized_otp, upload_body([first, {**first}]), HTTP_ACCEPT_LANGUAGE="it"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "teks: La stessa chiave compare due volte."


def test_every_reason_a_key_is_left_out_fits_the_counters_bucket():
    """The reasons are counter buckets: PostgreSQL refuses a longer one (a 500 on upload) where
    SQLite would store it."""
    from authority.ingestion import key_rules
    from authority.statistics.models import DailyCounter

    limit = DailyCounter._meta.get_field("bucket").max_length
    reasons = (key_rules.TOO_OLD, key_rules.IN_THE_FUTURE, key_rules.INTERVAL_REPEATED)
    assert all(len(reason) <= limit for reason in reasons)
