"""PostgreSQL restarted under upload load: the service recovers by itself and loses nothing.

Phones upload (14 keys each, one fresh code each) through a real gunicorn while the test
restarts the PostgreSQL cluster (`pg_ctlcluster ... restart`). Uploads caught by the restart
fail with the 500 error body; then, with no action from anyone, uploads succeed again. No key
of an accepted upload is lost, no refused upload left a key behind or used up its code, and
retrying each refused upload (as the app does) succeeds.

Restarting the database server disturbs everything else using it, so this runs only in CI
(CI=true) or when AUTHORITY_FAULT_TESTS=1 is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from authority.accounts.models import Role, User
from authority.keys.models import ExposureKey
from authority.otps.models import Otp, OtpState
from authority.statistics import buffer
from authority.statistics.models import DailyCounter
from tests.conftest import IN_CI
from tests.robustness.live import LiveGunicorn, Upload, authorized_codes, send_all

# `alone`: the restart cuts every connection to the server, other test workers' too.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.alone,
    pytest.mark.django_db(transaction=True),
]

UPLOADS = 360


def postgres_cluster() -> list[str]:
    """`version name` of the cluster serving the test database (pg_lsclusters)."""
    if not (IN_CI or os.environ.get("AUTHORITY_FAULT_TESTS") == "1"):
        pytest.skip("restarts PostgreSQL: runs in CI, or with AUTHORITY_FAULT_TESTS=1")
    if shutil.which("pg_ctlcluster") is None or os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI must be able to restart PostgreSQL (pg_ctlcluster as root)")
        pytest.skip("needs pg_ctlcluster as root")
    port = str(connection.settings_dict["PORT"] or "5432")
    listing = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout
    for line in listing.splitlines():
        version, name, cluster_port = line.split()[:3]
        if cluster_port == port:
            return [version, name]
    pytest.fail(f"no local PostgreSQL cluster on port {port}")


@pytest.fixture
def gunicorn(live_gunicorn: Callable[..., LiveGunicorn]) -> LiveGunicorn:
    return live_gunicorn()


def restart_postgres(cluster: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", *cluster, "restart", "--mode", "fast"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return time.monotonic() - started


def counter(metric: str) -> int:
    return sum(DailyCounter.objects.filter(metric=metric).values_list("value", flat=True))


def test_uploads_recover_by_themselves_after_a_postgres_restart(gunicorn, lazio, settings):
    cluster = postgres_cluster()
    operator = User.objects.create(username="fault-operator", role=Role.OPERATOR, region=lazio)
    uploads = [Upload.real(code) for code in authorized_codes(UPLOADS, operator, settings)]
    connection.close()

    load = threading.Thread(target=send_all, args=(gunicorn.port, uploads), kwargs={"threads": 4})
    load.start()
    while sum(upload.status is not None for upload in uploads) < UPLOADS // 4:
        time.sleep(0.02)
    restart_seconds = restart_postgres(cluster)
    load.join(timeout=300)
    assert not load.is_alive()

    statuses = Counter(upload.status for upload in uploads)
    accepted = [upload for upload in uploads if upload.status == 204]
    failed = [upload for upload in uploads if upload.status != 204]
    assert set(statuses) <= {204, 500}, statuses  # never a hang, a reset or a wrong answer
    assert all(upload.response.startswith(b'{"error_code":1000') for upload in failed)
    assert accepted, "no upload succeeded at all"

    # Nothing partial: accepted uploads are whole, refused ones left nothing and kept their code.
    connection.close()  # the test's own connection died with the restart
    stored = {bytes(key) for key in ExposureKey.objects.values_list("key_data", flat=True)}
    assert stored == {key for upload in accepted for key in upload.keys}
    assert Otp.objects.filter(state=OtpState.REDEEMED).count() == len(accepted)
    assert Otp.objects.filter(state=OtpState.PENDING).count() == len(failed)

    # Recovered by itself: the app retries what failed, and every retry is accepted.
    send_all(gunicorn.port, failed, threads=4)
    assert [upload.status for upload in failed] == [204] * len(failed)
    stored = {bytes(key) for key in ExposureKey.objects.values_list("key_data", flat=True)}
    assert stored == {key for upload in uploads for key in upload.keys}
    buffer.flush()
    assert counter("uploads") == UPLOADS
    assert counter("keys_stored") == 14 * UPLOADS
    print(
        f"PostgreSQL restart took {restart_seconds:.1f}s; {len(failed)} of {UPLOADS}"
        " uploads failed during it, all accepted on retry"
    )
