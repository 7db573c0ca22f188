"""An upload's `countries_of_interest` (the patient's consent) queues its keys for the European
gateway in the same transaction as the keys themselves: only for countries we share with, never
for a refused or dummy upload."""

from __future__ import annotations

from base64 import b64decode
from datetime import timedelta

import pytest
from django.utils import timezone

from authority.federation.models import OutboundKey
from authority.formats.otp import generate_otp
from authority.keys.models import ExposureKey
from authority.otps.models import OnsetKind
from authority.otps.services import authorize_otp
from tests.ingestion.conftest import make_teks, upload_body

pytestmark = pytest.mark.django_db


def _queued() -> dict[bytes, OutboundKey]:
    return {bytes(key.key_data): key for key in OutboundKey.objects.all()}


def test_the_keys_of_an_upload_are_queued_for_the_countries_the_patient_visited(
    app_client, authorized_otp, settings
):
    settings.FEDERATION_GATEWAY_URL = ""  # off: the consent is kept for when it is switched on
    teks = make_teks(4)
    response = app_client.upload(
        authorized_otp, upload_body(teks, countries_of_interest=["FR", "DE", "IT", "DE"])
    )
    assert response.status_code == 204
    queued = _queued()
    assert set(queued) == {b64decode(str(tek["key_data"])) for tek in teks}
    # Sorted, once each, never Italy itself.
    assert {key.visited_countries for key in queued.values()} == {"DE,FR"}
    assert {key.report_type for key in queued.values()} == {1}
    assert {key.transmission_risk_level for key in queued.values()} == {0x7FFFFFFF}
    # Symptoms began 3 days ago (the code's onset date): the key of that day is day 0 (give or
    # take the hours between Rome's and UTC's midnight), the later keys 1, 2, 3.
    by_age = [queued[b64decode(str(tek["key_data"]))].days_since_onset_of_symptoms for tek in teks]
    assert by_age[3] in (-1, 0, 1)
    assert by_age == [by_age[3] + 3, by_age[3] + 2, by_age[3] + 1, by_age[3]]
    # The national publication has its own rows: the queue is a copy.
    assert ExposureKey.objects.count() == 4


@pytest.mark.parametrize("countries", [None, [], ["IT"], ["US", "CH"]], ids=str)
def test_an_upload_without_a_country_we_share_with_queues_nothing(
    app_client, authorized_otp, countries
):
    body = upload_body(make_teks(3), countries_of_interest=countries)  # null is allowed
    assert app_client.upload(authorized_otp, body).status_code == 204
    assert ExposureKey.objects.count() == 3
    assert OutboundKey.objects.count() == 0


def test_an_upload_that_leaves_the_field_out_queues_nothing(app_client, authorized_otp):
    body = upload_body(make_teks(2))
    assert "countries_of_interest" not in body
    assert app_client.upload(authorized_otp, body).status_code == 204
    assert OutboundKey.objects.count() == 0


def test_a_patient_without_symptoms_is_shared_in_the_gateways_asymptomatic_range(
    app_client, operator
):
    code = generate_otp()
    tested_on = timezone.localdate() - timedelta(days=1)
    authorize_otp(code=code, onset_date=tested_on, onset_kind=OnsetKind.TEST, operator=operator)
    teks = make_teks(3)
    response = app_client.upload(code, upload_body(teks, countries_of_interest=["AT"]))
    assert response.status_code == 204
    values = sorted(key.days_since_onset_of_symptoms for key in _queued().values())
    # 3000 + days from the test, as the gateway encodes "no symptoms" (docs/federation.md):
    # keys of 2 days ago, yesterday and today around 3000 - 1, 3000, 3000 + 1.
    assert len(values) == 3 and values == [values[0], values[0] + 1, values[0] + 2]
    assert values[1] - 3000 in (-1, 0, 1)


def test_a_refused_upload_queues_nothing(app_client, authorized_otp):
    teks = make_teks(2)
    teks.append(teks[0].copy())  # the same key twice: refused
    response = app_client.upload(authorized_otp, upload_body(teks, countries_of_interest=["DE"]))
    assert response.status_code == 400
    assert OutboundKey.objects.count() == 0
    unknown = app_client.upload(
        generate_otp(), upload_body(make_teks(2), countries_of_interest=["DE"])
    )
    assert unknown.status_code == 401
    assert OutboundKey.objects.count() == 0


def test_a_dummy_upload_queues_nothing(app_client):
    response = app_client.upload(
        None, upload_body(make_teks(2), countries_of_interest=["DE"]), dummy=True
    )
    assert response.status_code == 204
    assert OutboundKey.objects.count() == 0


def test_a_lowercase_country_is_a_schema_error_and_nothing_is_kept(app_client, authorized_otp):
    # The apps send upper case (Android CountryOfInterest.code, iOS Country.countryId).
    response = app_client.upload(
        authorized_otp, upload_body(make_teks(2), countries_of_interest=["de"])
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert ExposureKey.objects.count() == 0 and OutboundKey.objects.count() == 0


def test_an_upload_queued_twice_keeps_the_first_countries(app_client, operator):
    teks = make_teks(2)
    for countries in (["DE"], ["FR"]):
        code = generate_otp()
        authorize_otp(code=code, onset_date=timezone.localdate(), operator=operator)
        body = upload_body(teks, countries_of_interest=countries)
        assert app_client.upload(code, body).status_code == 204
    assert {key.visited_countries for key in _queued().values()} == {"DE"}
    assert OutboundKey.objects.count() == 2
