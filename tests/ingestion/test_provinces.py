"""Every province code the Immuni apps can send is accepted, `EX` (abroad) included, and counted
where it belongs: a province's uploads and reports in its region, `EX` nationally only."""

from __future__ import annotations

import json
import secrets
from base64 import b64encode
from datetime import datetime, time

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from authority.accounts.models import Province
from authority.dashboard import opendata
from authority.formats.otp import generate_otp
from authority.ingestion import metrics
from authority.keys.metrics import KEYS_STORED
from authority.keys.models import ExposureKey
from authority.otps.services import authorize_otp
from authority.statistics.models import NATIONAL, DailyCounter
from authority.statistics.services import local_day
from tests.ingestion.conftest import make_teks, upload_body

pytestmark = pytest.mark.django_db

# The codes the apps offer, read from their sources: immuni-app-ios Modules/Models/Region.swift
# (`enum Province`) and immuni-app-android .../api/services/ExposureIngestionService.kt
# (`enum class Province`), the same 107 provinces and `EX` in both.
APPS_PROVINCES = (  # noqa: SIM905 - 108 codes, as a list literal 108 lines
    "AG AL AN AO AP AQ AR AT AV BA BG BI BL BN BO BR BS BT BZ CA CB CE CH CL CN CO CR CS CT CZ "
    "EN EX FC FE FG FI FM FR GE GO GR IM IS KR LC LE LI LO LT LU MB MC ME MI MN MO MS MT NA NO "
    "NU OR PA PC PD PE PG PI PN PO PR PT PU PV PZ RA RC RE RG RI RM RN RO SA SI SO SP SR SS SU "
    "SV TA TE TN TO TP TR TS TV UD VA VB VC VE VI VR VT VV"
).split()


@pytest.fixture(autouse=True)
def no_throttles(settings) -> None:
    settings.DEVICE_API_RATES = {name: "100000/minute" for name in settings.DEVICE_API_RATES}
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 1000  # a code for each of the 108 codes
    cache.clear()


def counters(metric: str) -> dict[int, int]:
    rows = DailyCounter.objects.filter(metric=metric).values_list("region_id", "value")
    totals: dict[int, int] = {}
    for region_id, value in rows:
        totals[region_id] = totals.get(region_id, 0) + value
    return totals


def region_of(code: str) -> int:
    return NATIONAL if code == "EX" else Province.objects.get(code=code).region_id


def new_code(operator) -> str:
    code = generate_otp()
    authorize_otp(code=code, onset_date=timezone.localdate(), operator=operator)
    return code


def test_the_apps_list_108_codes():
    assert len(APPS_PROVINCES) == len(set(APPS_PROVINCES)) == 108


def test_an_upload_from_every_province_the_apps_list_is_accepted(app_client, operator):
    for code in APPS_PROVINCES:
        response = app_client.upload(new_code(operator), upload_body(make_teks(1), province=code))
        assert response.status_code == 204, code
    expected: dict[int, int] = {}
    for code in APPS_PROVINCES:
        expected[region_of(code)] = expected.get(region_of(code), 0) + 1
    assert counters(metrics.UPLOADS) == expected
    assert counters(metrics.UPLOADS)[NATIONAL] == 1  # EX only
    assert ExposureKey.objects.count() == len(APPS_PROVINCES)


def test_an_operational_info_report_from_every_province_the_apps_list_is_accepted(regions):
    for code in APPS_PROVINCES:
        body = {
            "province": code,
            "exposure_permission": 1,
            "bluetooth_active": 1,
            "notification_permission": 1,
            "exposure_notification": 0,
            "last_risky_exposure_on": local_day().isoformat(),
            "build": 100,
            "salt": b64encode(secrets.token_bytes(16)).decode(),
            "signed_attestation": "aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl",
        }
        response = Client().post(
            "/v1/analytics/google/operational-info",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_IMMUNI_DUMMY_DATA="0",
        )
        assert response.status_code == 204, code
    totals = counters("app_reports")
    assert sum(totals.values()) == len(APPS_PROVINCES)
    assert totals[NATIONAL] == 1


def test_an_upload_from_abroad_counts_nationally_and_in_no_region(
    app_client, authorized_otp, lazio
):
    summary = {
        "date": local_day().isoformat(),
        "matched_key_count": 1,
        "days_since_last_exposure": 3,
        "attenuation_durations": [300, 0, 0],
        "maximum_risk_score": 4,
    }
    body = upload_body(make_teks(5), province="EX", exposure_detection_summaries=[summary])
    assert app_client.upload(authorized_otp, body).status_code == 204
    for metric in (metrics.UPLOADS, metrics.UPLOADS_WITH_KEYS, metrics.UPLOADERS_NOTIFIED):
        assert counters(metric) == {NATIONAL: 1}, metric
    assert counters(metrics.KEYS_PER_UPLOAD) == {NATIONAL: 1}
    # The keys are stored and published like any other. A key row needs a region: the one
    # whose code let them in (the operator's, Lazio), whose key figures count them.
    assert ExposureKey.objects.count() == 5
    assert set(ExposureKey.objects.values_list("region_id", flat=True)) == {lazio.pk}
    assert counters(KEYS_STORED) == {lazio.pk: 5}


@pytest.mark.parametrize("code", ["rm", "Rm", "ex", "ZZ", "R1", "RMA", ""])
def test_anything_else_is_a_schema_error(app_client, authorized_otp, code):
    response = app_client.upload(authorized_otp, upload_body(province=code))
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert "province" in response.json()["message"]


@pytest.mark.parametrize("code", ["CI", "OG", "OT", "VS"])
def test_sardinias_former_provinces_are_still_taken(app_client, authorized_otp, code):
    # Not in the apps' lists any more, but in the table (older builds may send them).
    assert app_client.upload(authorized_otp, upload_body(province=code)).status_code == 204
    assert counters(metrics.UPLOADS) == {Province.objects.get(code=code).region_id: 1}


def test_uploads_from_abroad_reach_the_open_data_as_abroad(app_client, operator, lazio):
    # From the phone to the published figure: five uploads from `EX` (the open data's smallest
    # published count) one day, read the next day as the "Estero" line, not Lazio's.
    day = opendata.last_settled_day()
    noon = timezone.make_aware(datetime.combine(day, time(12)))
    with time_machine.travel(noon, tick=False):
        for _ in range(5):
            code = generate_otp()
            authorize_otp(code=code, onset_date=day, operator=operator)
            body = upload_body(make_teks(1), province="EX")
            assert app_client.upload(code, body).status_code == 204
    response = Client().get("/open-data/daily.json", {"since": str(day), "until": str(day)})
    rows = {row["area"]: row for row in response.json()["rows"]}
    assert rows["EX"]["area_name"] == "Estero"
    assert rows["EX"]["uploads"] == 5
    assert rows["IT"]["uploads"] == 5
    assert rows["12"]["uploads"] in (0, None)
