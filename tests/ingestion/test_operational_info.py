"""POST /v1/analytics/{google,apple}/operational-info as the Immuni app sends it."""

from __future__ import annotations

import json
import secrets
from base64 import b64encode
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from authority.dashboard.attestation import AttestationVerifier, OperationalInfoReport, Verdict
from django.core.cache import cache
from django.test import Client

from authority.dashboard import attestation
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day
from tests.dashboard.conftest import counter

pytestmark = pytest.mark.django_db

GOOGLE = "/v1/analytics/google/operational-info"
APPLE = "/v1/analytics/apple/operational-info"


def report(**fields: object) -> dict[str, object]:
    return {
        "province": "RM",
        "exposure_permission": 1,
        "bluetooth_active": 1,
        "notification_permission": 0,
        "exposure_notification": 0,
        "last_risky_exposure_on": None,
        "build": 123,
        "padding": secrets.token_hex(16),
        **fields,
    }


def google(**fields: object) -> dict[str, object]:
    attested = {
        "salt": b64encode(secrets.token_bytes(16)).decode(),
        "signed_attestation": "eyJhbGciOiJSUzI1NiJ9.eyJub25jZSI6IngifQ.c2lnbmF0dXJl",
    }
    return report(**{**attested, **fields})


def apple(**fields: object) -> dict[str, object]:
    return report(**{"device_token": b64encode(secrets.token_bytes(64)).decode(), **fields})


def post(path: str, body: dict[str, object], *, dummy: bool = False):
    return Client().post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IMMUNI_DUMMY_DATA="1" if dummy else "0",
    )


def test_an_android_report_counts_for_the_region_of_its_province(lazio):
    response = post(
        GOOGLE, google(exposure_notification=1, last_risky_exposure_on=str(local_day()))
    )
    assert response.status_code == 204
    assert response.content == b""
    assert counter("app_reports", region_id=lazio.pk, bucket="android", day=local_day()) == 1
    assert counter("exposure_notifications", region_id=lazio.pk) == 1
    assert counter("exposure_permission_on", region_id=lazio.pk) == 1
    assert counter("bluetooth_on", region_id=lazio.pk) == 1
    assert counter("notification_permission_on") == 0
    assert counter("real_requests", bucket="analytics-google") == 1


def test_an_ios_report_counts_for_the_region_of_its_province(lombardia):
    response = post(APPLE, apple(province="MI", notification_permission=1, bluetooth_active=0))
    assert response.status_code == 204
    assert counter("app_reports", region_id=lombardia.pk, bucket="ios") == 1
    assert counter("notification_permission_on", region_id=lombardia.pk) == 1
    assert counter("bluetooth_on") == 0
    assert counter("exposure_notifications") == 0
    assert counter("real_requests", bucket="analytics-apple") == 1


def test_the_same_attestation_counts_once_a_month(lazio):
    body = google()
    assert post(GOOGLE, body).status_code == 204
    assert post(GOOGLE, body).status_code == 204  # answered alike, not counted again
    assert counter("app_reports") == 1
    assert counter("app_reports_refused", bucket="repeat") == 1


def test_a_device_counts_once_a_month_for_each_kind_of_report(lazio):
    token = b64encode(secrets.token_bytes(64)).decode()
    assert post(APPLE, apple(device_token=token)).status_code == 204
    with_exposure = apple(
        device_token=token, exposure_notification=1, last_risky_exposure_on=str(local_day())
    )
    assert post(APPLE, with_exposure).status_code == 204
    assert post(APPLE, with_exposure).status_code == 204
    assert counter("app_reports") == 2
    assert counter("exposure_notifications") == 1


def test_the_same_device_counts_again_next_month(lazio):
    token = b64encode(secrets.token_bytes(64)).decode()
    with time_machine.travel(datetime(2026, 3, 31, 20, 0, tzinfo=UTC), tick=False):
        post(APPLE, apple(device_token=token))
    with time_machine.travel(datetime(2026, 4, 1, 8, 0, tzinfo=UTC), tick=False):
        post(APPLE, apple(device_token=token))
    assert counter("app_reports") == 2


def test_no_device_identifier_is_kept_in_the_cache(lazio):
    body = apple()
    post(APPLE, body)
    keys = list(cache._cache.keys())  # type: ignore[attr-defined]
    assert keys
    assert not any(str(body["device_token"])[:16] in key for key in keys)
    assert not any(str(body["device_token"]) in str(value) for value in cache._cache.values())  # type: ignore[attr-defined]


def test_the_once_a_month_token_expires_at_the_end_of_the_month(lazio):
    from authority.dashboard.services import seconds_to_end_of_month

    # 31 March, 22:00 in Rome: two hours to go.
    moment = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    assert seconds_to_end_of_month(moment) == 2 * 3600


@pytest.mark.parametrize(
    ("moment", "seconds"),
    [
        # Summer time ends on 25 October 2026: 16 days and 13 hours to midnight in Rome.
        (datetime(2026, 10, 15, 10, 0, tzinfo=UTC), 16 * 86400 + 13 * 3600),
        # Summer time begins on 29 March 2026: 16 days and 12 hours to midnight in Rome.
        (datetime(2026, 3, 15, 10, 0, tzinfo=UTC), 16 * 86400 + 12 * 3600),
        # No change in between.
        (datetime(2026, 6, 15, 10, 0, tzinfo=UTC), 15 * 86400 + 12 * 3600),
    ],
)
def test_the_month_ends_at_midnight_in_rome_across_a_clock_change(moment, seconds):
    from authority.dashboard.services import seconds_to_end_of_month

    assert seconds_to_end_of_month(moment) == seconds


@pytest.mark.parametrize(
    ("first", "last_half_hour"),
    [
        # 31 October, 23:30 in Rome (summer time ends on the 25th).
        (datetime(2026, 10, 15, 10, 0, tzinfo=UTC), datetime(2026, 10, 31, 22, 30, tzinfo=UTC)),
        # 31 March, 23:30 in Rome (summer time begins on the 29th).
        (datetime(2026, 3, 15, 10, 0, tzinfo=UTC), datetime(2026, 3, 31, 21, 30, tzinfo=UTC)),
    ],
)
def test_a_device_counts_once_until_the_month_ends_across_a_clock_change(
    lazio, first, last_half_hour
):
    body = google()
    with time_machine.travel(first, tick=False):
        assert post(GOOGLE, body).status_code == 204
    # Still the same month: answered alike, but counted as a repeat, not as a report.
    with time_machine.travel(last_half_hour, tick=False):
        assert post(GOOGLE, body).status_code == 204
    assert counter("app_reports") == 1
    assert counter("app_reports_refused", bucket="repeat") == 1


def test_dummy_reports_count_nothing_but_dummy_traffic_and_look_the_same(lazio):
    real = post(GOOGLE, google())
    dummy = post(GOOGLE, google(), dummy=True)
    assert (dummy.status_code, dummy.content) == (real.status_code, real.content)
    assert counter("app_reports") == 1
    assert counter("dummy_requests", bucket="analytics-google") == 1


def test_dummy_reports_are_validated_like_real_ones(lazio):
    response = post(GOOGLE, google(province="ZZ"), dummy=True)
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (GOOGLE, google(province="ZZ")),
        (GOOGLE, google(exposure_permission=2)),
        (GOOGLE, google(bluetooth_active="yes")),
        (GOOGLE, google(exposure_notification=1)),  # without last_risky_exposure_on
        (GOOGLE, google(salt="not base64!")),
        (GOOGLE, google(salt=b64encode(b"short").decode())),
        (GOOGLE, google(signed_attestation="not-a-jws")),
        (GOOGLE, {k: v for k, v in google().items() if k != "salt"}),
        (GOOGLE, report()),
        (APPLE, {k: v for k, v in apple().items() if k != "device_token"}),
        (APPLE, apple(padding="xyz")),
        (APPLE, apple(province=None)),
    ],
)
def test_malformed_reports_are_schema_errors(lazio, path, body):
    response = post(path, body)
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert not DailyCounter.objects.exclude(metric__in=["real_requests", "dummy_requests"]).exists()


def test_exposure_dates_in_the_future_or_long_ago_are_refused(lazio):
    future = local_day() + timedelta(days=3)
    long_ago = local_day() - timedelta(days=90)
    for day in (future, long_ago):
        body = google(exposure_notification=1, last_risky_exposure_on=str(day))
        assert post(GOOGLE, body).status_code == 400
    assert counter("app_reports") == 0


def test_the_body_must_be_an_object(lazio):
    response = Client().post(
        GOOGLE, data="[]", content_type="application/json", HTTP_IMMUNI_DUMMY_DATA="0"
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


class RefusingVerifier(AttestationVerifier):
    seen: list[OperationalInfoReport] = []

    def verify(self, report: OperationalInfoReport) -> Verdict:
        self.seen.append(report)
        return Verdict(genuine=False)


def test_a_refused_attestation_is_answered_alike_and_counts_only_as_refused(lazio, settings):
    settings.OPERATIONAL_INFO_VERIFIER = "tests.dashboard.test_operational_info.RefusingVerifier"
    body = google()
    response = post(GOOGLE, body)
    assert response.status_code == 204
    assert counter("app_reports") == 0
    assert counter("app_reports_refused", bucket="attestation") == 1
    seen = RefusingVerifier.seen[-1]
    assert seen.platform == "android" and seen.region_id == lazio.pk
    assert seen.attestation == {
        "salt": body["salt"],
        "signed_attestation": body["signed_attestation"],
    }


def test_the_verifier_setting_must_name_a_verifier(settings):
    settings.OPERATIONAL_INFO_VERIFIER = "authority.dashboard.metrics.APP_REPORTS"
    with pytest.raises(TypeError):
        attestation.verifier()


def test_the_android_nonce_binds_the_attestation_to_the_report(lazio):
    def make(**changes: object) -> OperationalInfoReport:
        fields = {
            "platform": "android",
            "province": "RM",
            "region_id": lazio.pk,
            "exposure_permission": True,
            "bluetooth_active": True,
            "notification_permission": True,
            "exposure_notification": False,
            "last_risky_exposure_on": None,
            "attestation": {"salt": "c2FsdA==", "signed_attestation": "a.b.c"},
        }
        return OperationalInfoReport(**{**fields, **changes})  # type: ignore[arg-type]

    assert attestation.expected_nonce(make()) == attestation.expected_nonce(make())
    assert attestation.expected_nonce(make()) != attestation.expected_nonce(
        make(bluetooth_active=False)
    )
    assert attestation.expected_nonce(make()) != attestation.expected_nonce(
        make(attestation={"salt": "b3RoZXI=", "signed_attestation": "a.b.c"})
    )


def test_reports_beyond_the_rate_are_throttled_and_counted(lazio, settings, one_throttle_window):
    settings.DEVICE_API_RATES = {**settings.DEVICE_API_RATES, "analytics": "2/minute"}
    statuses = [post(APPLE, apple()).status_code for _ in range(3)]
    assert statuses == [204, 204, 429]
    assert counter("throttled_requests", bucket="analytics-apple") == 1
    assert counter("app_reports") == 2


def test_the_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/v1/analytics/google/operational-info" in schema
    assert "/v1/analytics/apple/operational-info" in schema
    assert "signed_attestation" in schema and "device_token" in schema
