"""DESIGN.md 3.1: after every flow a code can go through, no code is anywhere in clear."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from authority.formats.otp import otp_sha256_hex
from authority.otps import services
from tasks.otps import expire_and_purge_codes
from tests.otps.conftest import CODE_ON_PAGE, days_ago

pytestmark = pytest.mark.django_db

FROM_THE_WEB_APP = "KJ23IWY5UJ"
FROM_THE_HIS_APP = "9K2RAY8UUQ"


def everything_in_the_database(*browsers: Client) -> list[str]:
    """Every value of every row of every table, and the sessions of `browsers` opened (a
    session's row opens with its cookie only: authority/accounts/sessions.py)."""
    values: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                values.extend(str(value) for value in row if value is not None)
    values.extend(str(dict(browser.session.items())) for browser in browsers)
    return values


def test_no_code_in_clear_in_the_database_or_the_logs_after_every_flow(
    operator, supervisor, signed_in, caplog
):
    caplog.set_level(logging.DEBUG)
    staff = signed_in(operator)
    secrets_seen: list[str] = []

    # Web: issue, reload, authorize, conflict, typo, list, revoke.
    form = staff.get("/codes/issue/").context["form"]
    issue_data = {
        "form_token": form.initial["form_token"],
        "onset_kind": "symptoms",
        "onset_date": days_ago(1),
    }
    web_code = CODE_ON_PAGE.search(staff.post("/codes/issue/", issue_data).content.decode()).group(
        1
    )
    staff.post("/codes/issue/", issue_data)
    for code in (FROM_THE_WEB_APP, FROM_THE_WEB_APP, "KJ23IWY5UK"):
        staff.post(
            "/codes/authorize/", {"code": code, "onset_kind": "test", "onset_date": days_ago(2)}
        )
    staff.get("/codes/")

    # HIS: a key, issue, authorize, conflict, schema error.
    supervisor_browser = signed_in(supervisor)
    key_page = supervisor_browser.post("/codes/api-keys/", {"name": "HIS"})
    api_key = key_page.context["created"].key
    from rest_framework.test import APIClient

    his = APIClient()
    his.credentials(HTTP_AUTHORIZATION=f"ApiKey {api_key}")
    his_code = his.post(
        "/v1/otp/issue", {"symptoms_started_on": days_ago(0)}, format="json"
    ).json()["otp"]
    for code in (FROM_THE_HIS_APP, FROM_THE_HIS_APP, "9K2RAY8UUA"):
        his.post("/v1/otp", {"otp": code, "symptoms_started_on": days_ago(1)}, format="json")

    # Device side: check, redeem; then revoke one, let the others expire.
    assert services.check_otp(otp_sha256_hex=otp_sha256_hex(FROM_THE_WEB_APP))
    assert services.redeem_otp(otp_sha256_hex=otp_sha256_hex(web_code))
    his_otp = services.keyed_hash(otp_sha256_hex(his_code))
    staff_of_region = signed_in(supervisor)
    from authority.otps.models import Otp

    staff_of_region.post(f"/codes/{Otp.objects.get(code_hmac=his_otp).pk}/revoke/")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        expire_and_purge_codes.apply()

    secrets_seen = [web_code, his_code, FROM_THE_WEB_APP, FROM_THE_HIS_APP, api_key]
    needles = [*secrets_seen, *(otp_sha256_hex(code) for code in secrets_seen[:4])]
    database = "\n".join(
        everything_in_the_database(staff, supervisor_browser, staff_of_region)
    ).lower()
    for needle in needles:
        assert needle.lower() not in database
        assert needle.lower() not in caplog.text.lower()
    assert Otp.objects.count() == 4  # the rows are there, just without the codes
