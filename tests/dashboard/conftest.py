"""Fixtures of the statistics tests: counters by hand, chart JSON as a client gets it, a Redis."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from base64 import b64encode
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from authority.formats.otp import generate_otp
from authority.keys.models import PublicationRun
from authority.keys.services import publication, signing_keys
from authority.otps import services as otp_services
from authority.statistics.models import DailyCounter
from authority.statistics.services import increment, local_day
from tests.ingestion.conftest import AppClient, make_teks, upload_body

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def italian(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Italian strings wait in locale/it/LC_MESSAGES/pending-*.po until the lead merges them
    into django.po (BRIEF): compiled here, ahead of django.mo, so that pages can be read in
    Italian now. Once merged (the files gone), django.mo alone has them."""
    pending = sorted((ROOT / "locale" / "it" / "LC_MESSAGES").glob("pending-*.po"))
    if not pending:
        return
    folder = tmp_path_factory.mktemp("locale")
    target = folder / "it" / "LC_MESSAGES"
    target.mkdir(parents=True)
    merged = folder / "pending.po"
    subprocess.run(["msgcat", "--use-first", "-o", str(merged), *map(str, pending)], check=True)
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(target / "django.mo"), str(merged)], check=True
    )
    settings.LOCALE_PATHS = [folder, *settings.LOCALE_PATHS]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Charts, open data and the once-a-month tokens live in the cache: no test sees another's."""
    cache.clear()
    yield
    cache.clear()


def counter(metric: str, **key: object) -> int:
    return sum(DailyCounter.objects.filter(metric=metric, **key).values_list("value", flat=True))


@pytest.fixture
def count() -> Callable[..., None]:
    """Add to a counter as the services would: count("uploads", 3, region=lazio, day=...)."""

    def add(
        metric: str,
        amount: int = 1,
        *,
        region: Any = None,
        operator: Any = None,
        bucket: str = "",
        day: date | None = None,
    ) -> None:
        increment(
            metric,
            region_id=region.pk if region is not None else None,
            operator_id=operator.pk if operator is not None else None,
            bucket=bucket,
            amount=amount,
            day=day or local_day(),
        )

    return add


def chart(client: Client, slug: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/statistics/charts/{slug}/", params)
    assert response.status_code == 200, response.content
    return response.json()


def export(client: Client, slug: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/statistics/charts/{slug}/data.json", params)
    assert response.status_code == 200, response.content
    return response.json()


def rows_by(data: dict[str, Any], key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in data["rows"]}


@pytest.fixture
def redis_buffer(settings) -> Iterator[redis.Redis]:
    """Buffered statistics on the Redis of TEST_REDIS_URL, under a prefix of this test only."""
    url = os.environ["TEST_REDIS_URL"]
    prefix = f"test-statistics:{uuid.uuid4().hex}"
    settings.STATISTICS_BUFFERED = True
    settings.STATISTICS_REDIS_URL = url
    settings.STATISTICS_REDIS_PREFIX = prefix
    client = redis.Redis.from_url(url)
    yield client
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


# --- The scripted scenario the chart tests compare with ------------------------------------------

SCENARIO_MOMENT = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # noon in Rome
SCENARIO_DAY = date(2026, 3, 10)


@dataclass(frozen=True)
class Scenario:
    day: date
    keys_published: int
    secrets: tuple[str, ...]  # what must never be stored: codes in clear, the app's salt


@pytest.fixture
def frozen_day() -> Iterator[None]:
    """Everything happens on 10 March 2026 around noon in Rome (time keeps running)."""
    with time_machine.travel(SCENARIO_MOMENT, tick=True):
        yield


@pytest.fixture
def scenario(
    frozen_day, settings, tmp_path, operator, other_operator, supervisor, foreign_operator
) -> Scenario:
    """What the charts must show, done through the services and the device API:

    Lazio: `operator` issues 3 codes, `other_operator` authorizes 2 from the app. The app uploads
    with one issued code (14 keys) and one authorized code (5 keys), right away; the supervisor
    revokes another issued code; the second authorized code expires. One app reports its
    operational info from Rome, having shown an exposure notification.
    Lombardia: `foreign_operator` issues 1 code; the app uploads with it, without keys.
    Country: one check of an unknown code, one good check, one dummy upload. Then a publication:
    13 + 4 keys are old enough to publish (today's keys are still in use).
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "batches": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "batches"), "allow_overwrite": True},
        },
    }
    settings.KEYS_MIN_PER_FILE = 30
    onset = SCENARIO_DAY - timedelta(days=2)
    issued = [otp_services.issue_otp(operator=operator, onset_date=onset) for _ in range(3)]
    typed = [generate_otp(), generate_otp()]
    for code in typed:
        otp_services.authorize_otp(code=code, onset_date=onset, operator=other_operator)
    foreign = otp_services.issue_otp(operator=foreign_operator, onset_date=onset)

    app = AppClient(Client())
    assert app.check_otp(issued[0].code).status_code == 204
    assert app.check_otp("KJ23IWY5UJ").status_code == 401
    assert app.upload(issued[0].code, upload_body(make_teks(14))).status_code == 204
    assert app.upload(typed[0], upload_body(make_teks(5))).status_code == 204
    assert app.upload(foreign.code, upload_body([], province="MI")).status_code == 204
    assert app.upload(None, upload_body(make_teks(3)), dummy=True).status_code == 204
    assert otp_services.revoke_otp(actor=supervisor, otp=issued[1].otp)
    assert otp_services.expire_overdue_otps(now=timezone.now() + timedelta(minutes=31)) == 1

    report = {
        "province": "RM",
        "exposure_permission": 1,
        "bluetooth_active": 1,
        "notification_permission": 0,
        "exposure_notification": 1,
        "last_risky_exposure_on": (SCENARIO_DAY - timedelta(days=4)).isoformat(),
        "salt": b64encode(b"0123456789abcdef").decode(),
        "signed_attestation": "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl",
    }
    response = Client().post(
        "/v1/analytics/google/operational-info",
        data=json.dumps(report),
        content_type="application/json",
        HTTP_IMMUNI_DUMMY_DATA="0",
    )
    assert response.status_code == 204

    signing_keys.rotate_signing_key(actor=None)  # as an administrator does before publishing
    run = publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    assert publication.run_publication(run_id=run.pk).status == PublicationRun.Status.SUCCEEDED
    return Scenario(
        day=SCENARIO_DAY,
        keys_published=13 + 4,
        secrets=(*(i.code for i in issued), *typed, foreign.code, str(report["salt"])),
    )
