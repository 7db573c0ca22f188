"""The apps' operational info as the Immuni apps send it: counting, once a month, attestation.

The cases ported one by one from Immuni's analytics service are in test_immuni_analytics.py.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from base64 import b64encode
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from wsgiref.types import WSGIEnvironment

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from authority.ingestion.analytics import attestation
from authority.ingestion.analytics.attestation import (
    AttestationVerifier,
    DevelopmentVerifier,
    OperationalInfoReport,
)
from authority.statistics.models import NATIONAL, DailyCounter
from authority.statistics.services import local_day

pytestmark = pytest.mark.django_db

GOOGLE = "/v1/analytics/google/operational-info"
APPLE = "/v1/analytics/apple/operational-info"
APPLE_TOKEN = "/v1/analytics/apple/token"


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """The once-a-month rule lives in the cache: no test sees another's."""
    cache.clear()
    yield
    cache.clear()


def counter(metric: str, **key: object) -> int:
    return sum(DailyCounter.objects.filter(metric=metric, **key).values_list("value", flat=True))


def report(**fields: object) -> dict[str, object]:
    """What both apps send (the iOS app sends no build, the Android app no padding)."""
    return {
        "province": "RM",
        "exposure_permission": 1,
        "bluetooth_active": 1,
        "notification_permission": 0,
        "exposure_notification": 0,
        "last_risky_exposure_on": local_day().isoformat(),
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


def post(path: str, body: Mapping[str, object], *, dummy: bool = False, **headers: str):
    sent: WSGIEnvironment = {"HTTP_IMMUNI_DUMMY_DATA": "1" if dummy else "0", **headers}
    return Client().post(path, data=json.dumps(body), content_type="application/json", **sent)


def new_token() -> str:
    return secrets.token_hex(64)  # 128 lowercase hex digits, as the iOS app makes them


def authorize(token: str) -> int:
    """The iOS app has its token authorized (the task runs at once in tests)."""
    body = {"analytics_token": token, "device_token": b64encode(secrets.token_bytes(64)).decode()}
    return post(APPLE_TOKEN, body).status_code


def apple(token: str, body: dict[str, object], *, dummy: bool = False):
    return post(APPLE, body, dummy=dummy, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_an_android_report_counts_for_the_region_of_its_province(lazio):
    response = post(GOOGLE, google(exposure_notification=1))
    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"
    assert counter("app_reports", region_id=lazio.pk, bucket="android", day=local_day()) == 1
    assert counter("exposure_notifications", region_id=lazio.pk) == 1
    assert counter("exposure_permission_on", region_id=lazio.pk) == 1
    assert counter("bluetooth_on", region_id=lazio.pk) == 1
    assert counter("notification_permission_on") == 0
    assert counter("real_requests", bucket="analytics-google") == 1


def test_an_ios_report_counts_for_the_region_of_its_province(lombardia):
    token = new_token()
    assert authorize(token) == 202
    body = report(province="MI", notification_permission=1, bluetooth_active=0)
    del body["build"]
    response = apple(token, body)
    assert response.status_code == 204
    assert counter("app_reports", region_id=lombardia.pk, bucket="ios") == 1
    assert counter("notification_permission_on", region_id=lombardia.pk) == 1
    assert counter("bluetooth_on") == 0
    assert counter("exposure_notifications") == 0
    assert counter("real_requests", bucket="analytics-apple") == 1


@pytest.mark.parametrize("path", [GOOGLE, APPLE])
def test_a_report_from_abroad_counts_nationally_and_in_no_region(regions, path):
    token = new_token()
    authorize(token)
    body = google(province="EX") if path == GOOGLE else report(province="EX")
    assert post(path, body, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204
    assert counter("app_reports") == 1
    assert counter("app_reports", region_id=NATIONAL) == 1
    assert counter("exposure_permission_on", region_id=NATIONAL) == 1


def test_the_same_salt_counts_once_a_month(lazio):
    body = google()
    assert post(GOOGLE, body).status_code == 204
    assert post(GOOGLE, body).status_code == 204  # answered alike, not counted again
    assert counter("app_reports") == 1
    assert counter("app_reports_refused", bucket="repeat") == 1


def test_an_ios_token_counts_once_a_month_for_each_kind_of_report(lazio):
    token = new_token()
    authorize(token)
    assert apple(token, report()).status_code == 204
    with_exposure = report(exposure_notification=1)
    assert apple(token, with_exposure).status_code == 204
    assert apple(token, with_exposure).status_code == 204
    assert counter("app_reports") == 2
    assert counter("exposure_notifications") == 1
    assert counter("app_reports_refused", bucket="repeat") == 1


def test_a_token_never_authorized_is_answered_alike_and_counts_as_refused(lazio):
    response = apple(new_token(), report())
    assert response.status_code == 204
    assert counter("app_reports") == 0
    assert counter("app_reports_refused", bucket="attestation") == 1


def test_asking_again_does_not_give_a_token_a_second_report(lazio):
    token = new_token()
    assert authorize(token) == 202
    assert authorize(token) == 201  # authorized: Immuni's answer
    assert apple(token, report()).status_code == 204
    assert apple(token, report(exposure_notification=1)).status_code == 204
    # Both allowances spent: the app asks again, and the token is checked again...
    assert authorize(token) == 202
    # ... but a token is authorized once a month.
    apple(token, report())
    assert counter("app_reports") == 2
    assert counter("app_reports_refused", bucket="repeat") == 1


def test_an_authorized_token_reports_again_next_month_without_asking(lazio):
    token = new_token()
    with time_machine.travel(datetime(2026, 3, 31, 20, 0, tzinfo=UTC), tick=False):
        authorize(token)
        apple(token, report())
    with time_machine.travel(datetime(2026, 4, 1, 8, 0, tzinfo=UTC), tick=False):
        apple(token, report())
    assert counter("app_reports") == 2


def test_no_device_identifier_is_kept_in_the_cache(lazio):
    token = new_token()
    device_token = b64encode(secrets.token_bytes(64)).decode()
    post(APPLE_TOKEN, {"analytics_token": token, "device_token": device_token})
    body = google()
    post(GOOGLE, body)
    stored = list(cache._cache.items())  # type: ignore[attr-defined]  # LocMemCache's own store: Django lists no cache's keys
    assert stored
    for secret in (token, device_token, str(body["salt"])):
        assert not any(secret[:16] in key or secret[:16] in str(value) for key, value in stored)


def test_the_once_a_month_token_expires_at_the_end_of_the_month(lazio):
    from authority.ingestion.analytics.services import seconds_to_end_of_month

    # 31 March, 22:00 in Rome: two hours to go; and April's 30 days more to April's end.
    moment = datetime(2026, 3, 31, 20, 0, tzinfo=UTC)
    assert seconds_to_end_of_month(moment) == 2 * 3600
    assert seconds_to_end_of_month(moment, months=2) == 2 * 3600 + 30 * 86400


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
    from authority.ingestion.analytics.services import seconds_to_end_of_month

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
    with time_machine.travel(first, tick=False):
        body = google()
        assert post(GOOGLE, body).status_code == 204
    # Still the same month: answered alike, but counted as a repeat, not as a report.
    with time_machine.travel(last_half_hour, tick=False):
        body["last_risky_exposure_on"] = local_day().isoformat()
        assert post(GOOGLE, body).status_code == 204
    assert counter("app_reports") == 1
    assert counter("app_reports_refused", bucket="repeat") == 1


def test_dummy_reports_count_nothing_but_dummy_traffic_and_look_the_same(lazio):
    real = post(GOOGLE, google())
    dummy = post(GOOGLE, google(), dummy=True)
    assert (dummy.status_code, dummy.content) == (real.status_code, real.content)
    assert sorted(dummy.headers.items()) == sorted(real.headers.items())
    assert counter("app_reports") == 1
    assert counter("dummy_requests", bucket="analytics-google") == 1


def test_an_ios_dummy_report_with_its_random_token_looks_like_a_real_one(lazio):
    token = new_token()
    authorize(token)
    real = apple(token, report())
    dummy = apple(new_token(), report(), dummy=True)  # the app's dummy: a random token
    assert (dummy.status_code, dummy.content) == (real.status_code, real.content) == (204, b"")
    assert counter("app_reports") == 1
    assert counter("app_reports_refused") == 0
    assert counter("dummy_requests", bucket="analytics-apple") == 1


def test_dummy_reports_are_validated_like_real_ones(lazio):
    response = post(GOOGLE, google(province="ZZ"), dummy=True)
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (GOOGLE, google(province="ZZ")),
        (GOOGLE, google(province="rm")),
        (GOOGLE, google(exposure_permission=2)),
        (GOOGLE, google(exposure_permission=True)),
        (GOOGLE, google(bluetooth_active="1")),
        (GOOGLE, google(last_risky_exposure_on=None)),
        (GOOGLE, google(last_risky_exposure_on="2026-1-5")),
        (GOOGLE, google(salt="not base64!")),
        (GOOGLE, google(salt=b64encode(b"short").decode())),
        (GOOGLE, google(signed_attestation=12)),
        (GOOGLE, google(build=0)),
        (GOOGLE, google(build=2_100_000_001)),  # above Google Play's largest versionCode
        (APPLE, report(build=20_001)),  # iOS builds: Immuni's MAX_ALLOWED_BUILD
        (GOOGLE, google(build="12")),
        (GOOGLE, google(padding="ABC")),
        (GOOGLE, {k: v for k, v in google().items() if k != "salt"}),
        (GOOGLE, report()),
        (APPLE, {k: v for k, v in report().items() if k != "province"}),
        (APPLE, report(padding="xyz")),
        (APPLE, report(province=None)),
    ],
)
def test_malformed_reports_are_schema_errors(lazio, path, body):
    response = post(path, body, HTTP_AUTHORIZATION=f"Bearer {new_token()}")
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert response["Cache-Control"] == "no-store"
    assert not DailyCounter.objects.exclude(metric__in=["real_requests", "dummy_requests"]).exists()


def test_exposure_dates_in_the_future_or_long_ago_are_refused(lazio):
    future = local_day() + timedelta(days=3)
    long_ago = local_day() - timedelta(days=181)
    for day in (future, long_ago):
        body = google(exposure_notification=1, last_risky_exposure_on=str(day))
        assert post(GOOGLE, body).status_code == 400
    assert counter("app_reports") == 0


def test_a_phone_already_in_tomorrow_is_not_refused(lazio):
    tomorrow = local_day() + timedelta(days=1)
    assert post(GOOGLE, google(last_risky_exposure_on=str(tomorrow))).status_code == 204
    assert counter("app_reports") == 1


def test_the_body_must_be_an_object(lazio):
    for body in ("[]", ""):
        response = Client().post(
            GOOGLE, data=body, content_type="application/json", HTTP_IMMUNI_DUMMY_DATA="0"
        )
        assert response.status_code == 400
        assert response.json()["error_code"] == 1001


class RefusingVerifier(AttestationVerifier):
    seen: list[OperationalInfoReport] = []
    devices: list[str] = []

    def verify_android(self, report: OperationalInfoReport) -> bool:
        self.seen.append(report)
        return False

    def verify_apple_device(self, device_token: str) -> bool:
        self.devices.append(device_token)
        return False


def test_a_refused_attestation_is_answered_alike_and_counts_only_as_refused(lazio, settings):
    settings.OPERATIONAL_INFO_VERIFIER = "tests.ingestion.test_operational_info.RefusingVerifier"
    body = google()
    response = post(GOOGLE, body)
    assert response.status_code == 204
    assert counter("app_reports") == 0
    assert counter("app_reports_refused", bucket="attestation") == 1
    seen = RefusingVerifier.seen[-1]
    assert seen.platform == "android" and seen.region_id == lazio.pk
    assert (seen.salt, seen.signed_attestation) == (body["salt"], body["signed_attestation"])


def test_a_refused_device_leaves_its_token_unauthorized(lazio, settings):
    settings.OPERATIONAL_INFO_VERIFIER = "tests.ingestion.test_operational_info.RefusingVerifier"
    token = new_token()
    assert authorize(token) == 202
    assert authorize(token) == 202  # still being checked, as far as the app knows
    assert apple(token, report()).status_code == 204
    assert counter("app_reports") == 0
    assert counter("app_reports_refused", bucket="attestation") == 1


def test_the_verifier_setting_must_name_a_verifier(settings):
    settings.OPERATIONAL_INFO_VERIFIER = "authority.ingestion.analytics.metrics.APP_REPORTS"
    with pytest.raises(TypeError):
        attestation.verifier()
    assert [message.id for message in attestation.check_verifier_setting()] == ["ingestion.E001"]


def test_the_development_verifier_passes_the_system_check():
    assert isinstance(attestation.verifier(), DevelopmentVerifier)
    assert attestation.check_verifier_setting() == []


def make_report(**changes: Any) -> OperationalInfoReport:
    report = OperationalInfoReport(
        platform="android",
        province="CH",
        region_id=13,
        exposure_permission=True,
        bluetooth_active=True,
        notification_permission=True,
        exposure_notification=True,
        last_risky_exposure_on=datetime(2020, 6, 9).date(),
        salt="I2zF1+fgk4/uVHYe7DRt3A==",
    )
    return dataclasses.replace(report, **changes)


def test_the_android_nonce_is_the_one_the_app_computes():
    # The app hashes province, the four flags, the date and the salt, concatenated
    # (immuni-app-android ExposureAnalyticsOperationalInfo.digest), and sends the SHA-256
    # in base64 (ExposureAnalyticsManager.sendOperationalInfo).
    import hashlib

    digest = hashlib.sha256(b"CH11112020-06-09I2zF1+fgk4/uVHYe7DRt3A==").digest()
    assert attestation.expected_nonce(make_report()) == b64encode(digest).decode()


def test_the_android_nonce_binds_the_attestation_to_the_report():
    assert attestation.expected_nonce(make_report()) != attestation.expected_nonce(
        make_report(bluetooth_active=False)
    )
    assert attestation.expected_nonce(make_report()) != attestation.expected_nonce(
        make_report(salt="b3RoZXI=")
    )


def test_reports_beyond_the_rate_are_throttled_and_counted(lazio, settings, one_throttle_window):
    settings.DEVICE_API_RATES = {**settings.DEVICE_API_RATES, "analytics": "2/minute"}
    statuses = [post(GOOGLE, google()).status_code for _ in range(3)]
    assert statuses == [204, 204, 429]
    assert counter("throttled_requests", bucket="analytics-google") == 1
    assert counter("app_reports") == 2


def test_the_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/v1/analytics/google/operational-info" in schema
    assert "/v1/analytics/apple/operational-info" in schema
    assert "/v1/analytics/apple/token" in schema
    assert "signed_attestation" in schema and "device_token" in schema


# --- Off the request path: Google's verification and Apple's DeviceCheck run in Celery tasks ---


class Queued:
    """The tasks a request sent, with their arguments, run when the test says (the broker's
    place: what it would hold is what is checked)."""

    def __init__(self, monkeypatch, task_name: str) -> None:
        from authority.ingestion.analytics import views

        self.task = getattr(views, task_name)
        self.calls: list[tuple[object, ...]] = []
        monkeypatch.setattr(self.task, "delay", lambda *args: self.calls.append(args))

    def run(self) -> list[bool]:
        return [self.task(*args) for args in self.calls]


class CountingVerifier(AttestationVerifier):
    calls = 0

    def verify_android(self, report: OperationalInfoReport) -> bool:
        CountingVerifier.calls += 1
        return True

    def verify_apple_device(self, device_token: str) -> bool:
        return True


@pytest.fixture
def counting_verifier(settings) -> type[CountingVerifier]:
    settings.OPERATIONAL_INFO_VERIFIER = "tests.ingestion.test_operational_info.CountingVerifier"
    CountingVerifier.calls = 0
    return CountingVerifier


def test_an_android_report_is_answered_before_its_attestation_is_verified(
    lazio, monkeypatch, counting_verifier
):
    # Immuni's analytics service checked the salt in the request and verified the attestation
    # in a worker (immuni-backend-analytics apis/operational_info.py, tasks/verify_safety_net):
    # a real report takes the time a dummy takes, Google's time never shows.
    queued = Queued(monkeypatch, "verify_android_report")
    body = google()
    response = post(GOOGLE, body)
    assert response.status_code == 204
    assert counting_verifier.calls == 0
    assert counter("app_reports") == 0
    # The broker would hold a ticket: no salt, no attestation, nothing of the report.
    assert len(queued.calls) == 1
    (ticket,) = queued.calls[0]
    for sent in (body["salt"], body["signed_attestation"], "RM"):
        assert str(sent)[:12] not in str(ticket)
    assert queued.run() == [True]
    assert counting_verifier.calls == 1
    assert counter("app_reports", region_id=lazio.pk, bucket="android", day=local_day()) == 1
    # A message delivered twice counts once: the ticket opens nothing the second time.
    assert queued.run() == [False]
    assert counter("app_reports") == 1


def test_a_replayed_android_report_costs_no_verification(lazio, monkeypatch, counting_verifier):
    queued = Queued(monkeypatch, "verify_android_report")
    body = google()
    assert [post(GOOGLE, body).status_code for _ in range(3)] == [204, 204, 204]
    assert len(queued.calls) == 1  # the salt was spent by the first
    queued.run()
    assert counting_verifier.calls == 1
    assert counter("app_reports") == 1
    assert counter("app_reports_refused", bucket="repeat") == 2


def test_a_report_verified_after_midnight_counts_for_the_day_it_came_in(
    lazio, monkeypatch, counting_verifier
):
    queued = Queued(monkeypatch, "verify_android_report")
    evening = datetime(2026, 5, 11, 21, 59, tzinfo=UTC)  # 23:59 in Rome
    with time_machine.travel(evening, tick=False):
        assert post(GOOGLE, google()).status_code == 204
    with time_machine.travel(evening + timedelta(minutes=2), tick=False):
        queued.run()
    assert counter("app_reports", day=datetime(2026, 5, 11).date()) == 1
    assert counter("app_reports", day=datetime(2026, 5, 12).date()) == 0


def test_an_ios_device_token_never_goes_to_the_broker(lazio, monkeypatch, counting_verifier):
    queued = Queued(monkeypatch, "authorize_analytics_token")
    token = new_token()
    device_token = b64encode(secrets.token_bytes(64)).decode()
    body = {"analytics_token": token, "device_token": device_token}
    assert post(APPLE_TOKEN, body).status_code == 202
    (ticket,) = queued.calls[0]
    assert token[:12] not in str(ticket) and device_token[:12] not in str(ticket)
    assert queued.run() == [True]
    assert post(APPLE_TOKEN, body).status_code == 201  # authorized
    assert apple(token, report()).status_code == 204
    assert counter("app_reports", bucket="ios") == 1


def test_a_ticket_expires_with_what_it_opens(lazio, monkeypatch, counting_verifier):
    from authority.ingestion.analytics.handoff import HANDOFF_SECONDS

    queued = Queued(monkeypatch, "verify_android_report")
    start = datetime(2026, 5, 11, 10, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        post(GOOGLE, google())
    with time_machine.travel(start + timedelta(seconds=HANDOFF_SECONDS + 1), tick=False):
        assert queued.run() == [False]
    assert counting_verifier.calls == 0
    assert counter("app_reports") == 0


def test_a_forged_ticket_opens_nothing(lazio, monkeypatch, counting_verifier):
    queued = Queued(monkeypatch, "verify_android_report")
    post(GOOGLE, google())
    (ticket,) = queued.calls[0]
    name, _, _key = str(ticket).partition(".")
    from tasks.analytics import verify_android_report

    other_key = b64encode(secrets.token_bytes(16)).decode().replace("+", "-").replace("/", "_")
    assert verify_android_report(f"{name}.{other_key}") is False
    assert counter("app_reports") == 0
