"""After an upload the database holds the keys and counters, and nothing else about it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from authority.keys.models import ExposureKey
from authority.otps.models import Otp
from authority.statistics.models import DailyCounter
from tests.ingestion.conftest import make_teks, upload_body

pytestmark = pytest.mark.django_db

APP_ADDRESS = "198.51.100.23"
APP_AGENT = "Immuni/1.4.2 (iPhone; iOS 14.2)"


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def all_text(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')  # table names come from the models
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


def test_an_upload_leaves_keys_and_counters_only(app_client, authorized_otp):
    before = row_counts()
    response = app_client.upload(authorized_otp, HTTP_USER_AGENT=APP_AGENT, REMOTE_ADDR=APP_ADDRESS)
    assert response.status_code == 204
    after = row_counts()
    changed = {label for label in after if after[label] != before[label]}
    assert changed <= {ExposureKey._meta.label, DailyCounter._meta.label}
    assert after[ExposureKey._meta.label] == 14
    # The code's row stays (redeemed, until the grace period ends) but gains nothing personal.
    assert after[Otp._meta.label] == before[Otp._meta.label]


def test_no_table_holds_the_client_address_or_user_agent(app_client, authorized_otp):
    app_client.upload(authorized_otp, HTTP_USER_AGENT=APP_AGENT, REMOTE_ADDR=APP_ADDRESS)
    app_client.check_otp(None, dummy=True)
    for model in apps.get_models():
        text = all_text(model._meta.db_table)
        assert APP_ADDRESS not in text, model._meta.label
        assert "Immuni/1.4.2" not in text, model._meta.label


def test_stored_keys_carry_nothing_that_links_them_to_their_upload(app_client, authorized_otp):
    app_client.upload(authorized_otp)
    fields = {field.name for field in ExposureKey._meta.get_fields()}
    assert not fields & {"upload", "upload_id", "created_at", "otp", "device", "created"}


def test_logs_hold_no_address_no_code_and_no_key(app_client, authorized_otp, caplog):
    from authority.formats.otp import otp_sha256_hex

    caplog.set_level("DEBUG")
    teks = make_teks()
    app_client.upload("KJ23IWY5UJ", REMOTE_ADDR=APP_ADDRESS)  # a failure, logged as a warning
    app_client.upload(
        authorized_otp, upload_body(teks), REMOTE_ADDR=APP_ADDRESS, HTTP_USER_AGENT=APP_AGENT
    )
    logged = caplog.text
    for secret in (APP_ADDRESS, "Immuni/1.4.2", authorized_otp, otp_sha256_hex(authorized_otp)):
        assert secret not in logged
    assert all(str(tek["key_data"]) not in logged for tek in teks)
