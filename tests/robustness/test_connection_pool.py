"""The web workers' database pool is not held through the device API's delay.

Each worker of gunicorn.conf.py has a small pool of connections and many threads, because a
device request spends almost all its time waiting out the drawn delay. Here the pool has two
connections, a request may wait one second for one, and every answer is held 1.5 seconds: if
a request kept its connection while it waits, the third concurrent real upload would not get
one in time and fail. All of them must succeed, and store their keys.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from authority.accounts.models import Role, User
from authority.keys.models import ExposureKey
from tests.robustness.live import LiveGunicorn, Upload, authorized_codes, send_all

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_requests_waiting_out_their_delay_do_not_hold_pooled_connections(
    live_gunicorn: Callable[..., LiveGunicorn], settings, lazio
):
    operator = User.objects.create(username="pool-operator", role=Role.OPERATOR, region=lazio)
    uploads = [Upload.real(code) for code in authorized_codes(24, operator, settings)]
    server = live_gunicorn(
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="12",
        DATABASE_POOL_MAX_SIZE="2",
        DATABASE_POOL_TIMEOUT="1",
        DEVICE_API_MIN_RESPONSE_MS="1500",
        DEVICE_API_RESPONSE_SPREAD_MS="0",
    )
    send_all(server.port, uploads, threads=12)
    assert Counter(upload.status for upload in uploads) == {204: 24}
    assert ExposureKey.objects.count() == 24 * 14
