"""Sustained uploads over a real gunicorn: every accepted key is stored, every request counted.

Real uploads (14 keys each), dummy ones, guessed codes, a code raced by two uploads at once
and uploads with schema errors go, shuffled, through eight keep-alive connections to gunicorn
(production config, PostgreSQL, counters buffered in Redis). Afterwards the database holds
exactly the keys of the accepted uploads, and once the counters are flushed every counter
equals what the load generator sent.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from authority.accounts.models import Role, User
from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from authority.statistics import buffer
from authority.statistics.models import DailyCounter
from tests.robustness.live import LiveGunicorn, Upload, authorized_codes, send_all

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REAL = 160
DUMMY = 160
GUESSED = 40
RACED = 20  # codes each sent by two uploads at once
INVALID = 20


@pytest.fixture
def gunicorn(live_gunicorn: Callable[..., LiveGunicorn]) -> LiveGunicorn:
    return live_gunicorn()


def counter(metric: str, **key: object) -> int:
    return sum(DailyCounter.objects.filter(metric=metric, **key).values_list("value", flat=True))


def test_every_accepted_key_is_stored_and_every_request_counted(gunicorn, lazio, settings):
    operator = User.objects.create(username="load-operator", role=Role.OPERATOR, region=lazio)
    codes = authorized_codes(REAL + RACED + INVALID, operator, settings)
    real = [Upload.real(code) for code in codes[:REAL]]
    raced = [Upload.real(code) for code in codes[REAL : REAL + RACED] for _ in range(2)]
    invalid = [Upload.real(code) for code in codes[REAL + RACED :]]
    for upload in invalid:
        upload.valid = False
    dummy = [Upload.real(None) for _ in range(DUMMY)]
    for upload in dummy:
        upload.dummy = True
    guessed = [Upload.real(None) for _ in range(GUESSED)]
    uploads = real + raced + invalid + dummy + guessed
    random.Random(8).shuffle(uploads)

    send_all(gunicorn.port, uploads)

    statuses = Counter(upload.status for upload in uploads)
    assert set(statuses) <= {204, 400, 401}, (statuses, gunicorn.log_tail())
    assert all(upload.status == 204 for upload in real + dummy)
    assert all(upload.status == 401 for upload in guessed)
    assert all(upload.status == 400 for upload in invalid)
    raced_outcomes = Counter(
        tuple(sorted((a.status, b.status))) for a, b in zip(raced[::2], raced[1::2], strict=True)
    )
    assert raced_outcomes == {(204, 401): RACED}  # each raced code was used exactly once

    accepted = [upload for upload in real + raced if upload.status == 204]
    refused = [upload for upload in raced + invalid if upload.status != 204]
    connection.close()  # fresh view of what gunicorn committed
    stored = {bytes(key) for key in ExposureKey.objects.values_list("key_data", flat=True)}
    accepted_keys = {key for upload in accepted for key in upload.keys}
    assert len(accepted_keys) == 14 * len(accepted) == 14 * (REAL + RACED)
    assert stored == accepted_keys, "keys lost or stored from a refused upload"
    assert not stored & {key for upload in refused for key in upload.keys}
    assert Otp.objects.filter(state=OtpState.REDEEMED).count() == len(accepted)
    # The codes of uploads refused for their schema are still usable.
    assert Otp.objects.filter(state=OtpState.PENDING).count() == INVALID

    buffer.flush()  # what the beat task does every minute
    assert counter("uploads") == len(accepted)
    assert counter("uploads_with_keys") == len(accepted)
    assert counter("keys_stored") == 14 * len(accepted)
    assert counter("keys_per_upload", bucket="14") == len(accepted)
    validated_real = len(accepted) + GUESSED + RACED  # schema errors are not counted
    assert counter("real_requests", bucket="upload") == validated_real
    assert counter("dummy_requests", bucket="upload") == DUMMY
    assert counter("failed_otp_checks", bucket="upload") == GUESSED + RACED
    assert counter("throttled_requests") == 0
