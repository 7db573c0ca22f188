"""Concurrent uploads with the same code: exactly one succeeds (PostgreSQL, real transactions)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from authority.accounts.models import Role, User
from authority.formats.otp import generate_otp
from authority.keys.models import ExposureKey
from authority.otps.services import authorize_otp
from tests.ingestion.conftest import AppClient, make_teks, upload_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_uploads_with_one_code_succeed_once(lazio):
    operator = User.objects.create(username="op", role=Role.OPERATOR, region=lazio)
    code = generate_otp()
    authorize_otp(code=code, onset_date=timezone.localdate() - timedelta(days=1), operator=operator)
    bodies = [upload_body(make_teks(14)) for _ in range(8)]
    start = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def attempt(body: dict[str, object]) -> None:
        try:
            start.wait()
            statuses.append(AppClient(Client()).upload(code, body).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [204] + [401] * 7
    assert ExposureKey.objects.count() == 14
