"""The load balancer's health check and the Prometheus metrics."""

from __future__ import annotations

import json
from base64 import b64encode
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from authority.accounts.models import Region
from authority.dashboard.opendata import last_settled_day
from authority.formats.otp import generate_otp
from authority.keys.models import PublicationRun
from authority.keys.services.publication import request_publication, run_publication
from authority.keys.services.signing_keys import rotate_signing_key
from authority.otps.services import authorize_otp, expire_overdue_otps, issue_otp, revoke_otp
from authority.statistics.models import DailyCounter
from authority.statistics.services import increment
from tests.ingestion.conftest import AppClient, make_teks, upload_body

pytestmark = pytest.mark.django_db


def test_health_reports_every_dependency(db):
    rotate_signing_key(actor=None)
    response = Client().get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "cache": "ok",
            "broker": "ok",
            "storage": "ok",
            "signing_key": "ok",
        },
        "warnings": {},
    }
    assert "no-cache" in response["Cache-Control"]


def test_health_is_down_without_a_signing_key(db):
    response = Client().get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["signing_key"] == "down"


def test_metrics_need_the_token_when_one_is_set(db, settings):
    settings.METRICS_TOKEN = "a-long-metrics-token"
    assert Client().get("/metrics").status_code == 401
    ok = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer a-long-metrics-token")
    assert ok.status_code == 200


def test_metrics_do_not_exist_in_production_without_a_token(db, settings):
    settings.PRODUCTION = True
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404


# --- What /metrics may show (docs/metrics.md) ----------------------------------------------------


def scrape() -> str:
    response = Client().get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def sample(text: str, name: str) -> str:
    """The value of one sample, as written (e.g. "3.0", "NaN")."""
    [line] = [line for line in text.splitlines() if line.startswith(name + " ")]
    return line.split(" ", 1)[1]


NOON = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # in Rome


def test_the_machinery_is_shown_live(db):
    rotate_signing_key(actor=None)
    text = scrape()
    assert sample(text, "authority_active_signing_keys") == "1.0"
    assert sample(text, "authority_publication_running") == "0.0"
    assert sample(text, "authority_publication_failures_24h") == "0.0"
    assert sample(text, "authority_last_batch_age_seconds") == "NaN"  # nothing published yet
    assert "authority_codes_usable" not in text
    assert "authority_keys_unpublished" not in text


def test_a_publication_run_is_seen_and_aged(db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "batches": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "allow_overwrite": True},
        },
    }
    rotate_signing_key(actor=None)
    with time_machine.travel(NOON, tick=False):
        run = request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
        assert sample(scrape(), "authority_publication_running") == "1.0"
        run_publication(run_id=run.pk)
    with time_machine.travel(NOON + timedelta(minutes=10), tick=False):
        text = scrape()
    assert sample(text, "authority_publication_running") == "0.0"
    assert sample(text, "authority_last_publication_age_seconds") == "600.0"


def test_no_patient_event_shows_between_two_scrapes(db, operator, supervisor, lazio):
    """A code issued, authorized, used, revoked or expired, keys uploaded, an app's report:
    with the clock stopped, the next scrape is the same, byte for byte. Nothing of the day
    under way is shown, so no scrape can time one person's upload or count it."""
    rotate_signing_key(actor=None)
    with time_machine.travel(NOON, tick=False):
        before = scrape()
        onset = date(2026, 3, 8)
        issued = issue_otp(operator=operator, onset_date=onset)
        revoked = issue_otp(operator=operator, onset_date=onset)
        assert revoke_otp(actor=supervisor, otp=revoked.otp)
        typed = generate_otp()
        authorize_otp(code=typed, onset_date=onset, operator=operator)
        app = AppClient(Client())
        assert app.check_otp(issued.code).status_code == 204
        assert app.upload(issued.code, upload_body(make_teks(14))).status_code == 204
        assert app.upload(None, upload_body(make_teks(3)), dummy=True).status_code == 204
        assert app.check_otp("KJ23IWY5UJ").status_code == 401
        report = Client().post(
            "/v1/analytics/google/operational-info",
            data=json.dumps(
                {
                    "province": "RM",
                    "exposure_permission": 1,
                    "bluetooth_active": 1,
                    "notification_permission": 1,
                    "exposure_notification": 0,
                    "last_risky_exposure_on": timezone.localdate().isoformat(),
                    "build": 123,
                    "salt": b64encode(b"0123456789abcdef").decode(),
                    "signed_attestation": "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl",
                }
            ),
            content_type="application/json",
            HTTP_IMMUNI_DUMMY_DATA="0",
        )
        assert report.status_code == 204
        assert expire_overdue_otps(now=timezone.now() + timedelta(minutes=31)) == 1
        after = scrape()
    assert DailyCounter.objects.filter(metric="uploads", value=1).exists()  # it did count
    assert after == before


def count_yesterday(metric: str, amount: int, region) -> None:
    increment(metric, region_id=region.pk, amount=amount, day=last_settled_day())


def test_the_last_complete_day_is_shown_with_small_counts_withheld(db, lazio, lombardia):
    sicily = Region.objects.get(name="Sicilia")
    count_yesterday("uploads", 3, lazio)  # small: withheld, and the country's with it
    count_yesterday("app_reports", 400, lazio)
    count_yesterday("app_reports", 300, lombardia)
    count_yesterday("otp_redeemed", 2, lazio)
    count_yesterday("otp_redeemed", 30, lombardia)
    count_yesterday("otp_redeemed", 40, sicily)
    increment("uploads", region_id=lazio.pk, amount=50)  # today's: not shown until tomorrow
    text = scrape()
    assert sample(text, 'authority_daily_total{metric="uploads"}') == "NaN"
    assert sample(text, 'authority_daily_total{metric="app_reports"}') == "700.0"
    assert sample(text, 'authority_daily_total{metric="otp_revoked"}') == "0.0"
    # 2 + 30 + 40: the open data withholds all three regions, and may show the 72.
    assert sample(text, 'authority_daily_total{metric="otp_redeemed"}') == "72.0"
    day = last_settled_day()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    assert float(sample(text, "authority_daily_total_day")) == start.timestamp()


def test_the_countrys_figures_are_the_open_datas(db, lazio, lombardia):
    count_yesterday("uploads", 4, lazio)
    count_yesterday("uploads", 20, lombardia)
    count_yesterday("exposure_notifications", 9, lazio)
    count_yesterday("exposure_notifications", 12, lombardia)
    day = str(last_settled_day())
    rows = Client().get("/open-data/daily.json", {"since": day, "until": day}).json()["rows"]
    [country] = [row for row in rows if row["area"] == "IT"]
    text = scrape()
    for column, metric in (("uploads", "uploads"), ("exposure_notifications",) * 2):
        shown = sample(text, f'authority_daily_total{{metric="{metric}"}}')
        expected = country[column]
        assert shown == ("NaN" if expected is None else f"{float(expected)}"), metric
    assert country["uploads"] is None and country["exposure_notifications"] == 21


def test_yesterday_waits_until_its_counters_have_settled(db, lazio):
    midnight = datetime(2026, 3, 10, 0, 0, tzinfo=ZoneInfo("Europe/Rome"))
    with time_machine.travel(midnight + timedelta(minutes=30), tick=False):
        increment("uploads", region_id=lazio.pk, amount=50, day=date(2026, 3, 9))
        early = scrape()
    with time_machine.travel(midnight + timedelta(minutes=61), tick=False):
        settled = scrape()
    assert sample(early, 'authority_daily_total{metric="uploads"}') == "0.0"  # the 8th
    assert sample(settled, 'authority_daily_total{metric="uploads"}') == "50.0"  # the 9th


def test_tasks_waiting_in_the_broker_are_counted(db):
    from tasks.celery import app

    queue = app.conf.task_default_queue
    name = f'authority_broker_messages{{queue="{queue}"}}'
    for folder in ("data_folder_in", "processed_folder"):  # the embedded broker's, if it is
        if folder in (app.conf.broker_transport_options or {}):
            Path(app.conf.broker_transport_options[folder]).mkdir(parents=True, exist_ok=True)
    waiting = float(sample(scrape(), name))
    with app.connection_for_write() as connection:
        simple = connection.SimpleQueue(queue)
        try:
            simple.put({"not": "a task"})
            assert float(sample(scrape(), name)) == waiting + 1
        finally:
            simple.clear()
            simple.close()


def test_a_broker_that_does_not_answer_is_nan_and_the_rest_still_shown(db, monkeypatch):
    from tasks.celery import app

    # Nothing listens on port 1: a real connection, refused.
    connect = app.connection_for_read
    monkeypatch.setattr(app, "connection_for_read", lambda: connect("redis://127.0.0.1:1/0"))
    text = scrape()
    assert sample(text, 'authority_broker_messages{queue="celery"}') == "NaN"
    assert "authority_publication_running" in text
