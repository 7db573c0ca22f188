"""The load balancer's health check and the Prometheus metrics."""

from __future__ import annotations

import secrets

import pytest
from django.test import Client

from authority.keys.services.signing_keys import rotate_signing_key

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
    }
    assert "no-cache" in response["Cache-Control"]


def test_health_is_down_without_a_signing_key(db):
    response = Client().get("/health")
    assert response.status_code == 503
    assert response.json()["checks"]["signing_key"] == "down"


def test_metrics_are_aggregate_figures(db, authorized_code):
    text = Client().get("/metrics").content.decode()
    assert "authority_codes_usable 1.0" in text
    assert 'authority_events_today{metric="otp_authorized"} 1.0' in text


def test_metrics_need_the_token_when_one_is_set(db, settings):
    settings.METRICS_TOKEN = "a-long-metrics-token"
    assert Client().get("/metrics").status_code == 401
    ok = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer a-long-metrics-token")
    assert ok.status_code == 200


def test_metrics_do_not_exist_in_production_without_a_token(db, settings):
    settings.PRODUCTION = True
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404


@pytest.fixture
def authorized_code(operator):
    from datetime import timedelta

    from django.utils import timezone

    from authority.formats.otp import generate_otp
    from authority.otps.services import authorize_otp

    authorize_otp(
        code=generate_otp(), onset_date=timezone.localdate() - timedelta(days=1), operator=operator
    )


def test_unpublished_keys_are_counted_and_recounted_at_most_every_five_minutes(db, lazio):
    from datetime import date

    from django.core.cache import cache

    from authority.keys.services.storing import UploadedKey, store_uploaded_keys

    def stored(count: int) -> None:
        keys = [UploadedKey(secrets.token_bytes(16), 2_900_000 + 144 * n) for n in range(count)]
        store_uploaded_keys(
            keys=keys, region_id=lazio.pk, onset_date=None, uploaded_on=date.today()
        )

    stored(3)
    assert "authority_keys_unpublished 3.0" in Client().get("/metrics").content.decode()
    stored(2)  # within the five minutes: the figure stays
    assert "authority_keys_unpublished 3.0" in Client().get("/metrics").content.decode()
    cache.delete("metrics:keys-unpublished")  # as when the five minutes are over
    assert "authority_keys_unpublished 5.0" in Client().get("/metrics").content.decode()
