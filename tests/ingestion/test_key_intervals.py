"""No two keys of an upload for the same interval (DESIGN.md 7): overlapping keys are refused,
keys that follow each other are not."""

from __future__ import annotations

import os
from base64 import b64encode

import pytest

from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from tests.ingestion.conftest import todays_interval, upload_body

pytestmark = pytest.mark.django_db

OVERLAP = "teks: The intervals of two keys overlap."


def key(start: int, period: int = 144) -> dict[str, object]:
    """A key starting `start` intervals after yesterday's first: in the past at any hour."""
    return {
        "key_data": b64encode(os.urandom(16)).decode(),
        "rolling_start_number": todays_interval() - 144 + start,
        "rolling_period": period,
    }


@pytest.mark.parametrize(
    "spans",
    [
        [(0, 144), (10, 144)],
        [(10, 144), (0, 144)],
        [(0, 144), (50, 10)],
        [(-144, 144), (0, 144), (143, 1)],
        [(0, 2), (1, 1)],
    ],
    ids=["shifted", "shifted-in-reverse", "inside", "last-interval-shared", "by-one"],
)
def test_overlapping_keys_are_refused_and_the_otp_survives(app_client, authorized_otp, spans):
    teks = [key(start, period) for start, period in spans]
    response = app_client.upload(authorized_otp, upload_body(teks))
    assert response.status_code == 400
    assert response.json() == {"error_code": 1001, "message": OVERLAP}
    assert ExposureKey.objects.count() == 0
    assert Otp.objects.get().state == OtpState.PENDING
    # The app fixes its request and tries again with the same code.
    assert app_client.upload(authorized_otp, upload_body([key(0)])).status_code == 204


def test_a_dummy_upload_with_overlapping_keys_is_refused_alike(app_client, authorized_otp):
    real = app_client.upload(authorized_otp, upload_body([key(0), key(10)]))
    dummy = app_client.upload(None, upload_body([key(0), key(10)]), dummy=True)
    assert dummy.status_code == real.status_code == 400
    assert dummy.content == real.content


def test_the_refusal_is_worded_in_italian_for_italian_phones(app_client, authorized_otp):
    response = app_client.upload(
        authorized_otp, upload_body([key(0), key(10)]), HTTP_ACCEPT_LANGUAGE="it"
    )
    assert response.status_code == 400
    assert response.json()["message"] == "teks: Gli intervalli di due chiavi si sovrappongono."


@pytest.mark.parametrize(
    "spans",
    [
        [(-144, 144), (0, 144)],
        [(0, 72), (72, 72)],
        [(0, 1), (1, 1), (2, 142)],
        [(0, 10), (100, 10)],
    ],
    ids=["consecutive-days", "half-days", "one-interval-keys", "with-a-gap"],
)
def test_keys_that_follow_each_other_are_stored(app_client, authorized_otp, spans):
    teks = [key(start, period) for start, period in spans]
    assert app_client.upload(authorized_otp, upload_body(teks)).status_code == 204
    assert ExposureKey.objects.count() == len(teks)
    assert Otp.objects.get().state == OtpState.REDEEMED
