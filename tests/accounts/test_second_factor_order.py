"""Which device a second-factor code is tried on first: an authenticator login must not count as
a wrong backup code (found in the screenshot review: the admin's backup codes showed a wrong
code for each login)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authority.accounts.models import BackupCodeDevice
from authority.accounts.services import sign_in
from tests.conftest import PASSWORD, current_code, enroll_authenticator

pytestmark = pytest.mark.django_db


def verify(username: str, token: str):
    client = Client()
    client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})
    return client.post(reverse("accounts:verify"), {"token": token})


def test_authenticator_logins_leave_the_backup_codes_ready(operator):
    authenticator = enroll_authenticator(operator)
    codes = sign_in.replace_backup_codes(user=operator)
    start = timezone.now()
    # A working day's logins, each with the app's code of its own minute.
    for login in range(6):
        with time_machine.travel(start + timedelta(minutes=login), tick=False):
            authenticator.refresh_from_db()
            response = verify(operator.username, current_code(authenticator))
            assert response.status_code == 302
            assert response["Location"] == reverse("home")
    backup = BackupCodeDevice.objects.get(user=operator)
    assert backup.throttling_failure_count == 0
    # The phone is lost the next minute: a backup code works at once.
    with time_machine.travel(start + timedelta(minutes=7), tick=False):
        response = verify(operator.username, codes[0])
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_after_many_logins_one_mistyped_code_asks_for_no_long_wait(operator):
    authenticator = enroll_authenticator(operator)
    sign_in.replace_backup_codes(user=operator)
    start = timezone.now()
    for login in range(12):
        with time_machine.travel(start + timedelta(minutes=login), tick=False):
            authenticator.refresh_from_db()
            assert verify(operator.username, current_code(authenticator)).status_code == 302
    with time_machine.travel(start + timedelta(minutes=13), tick=False):
        response = verify(operator.username, "000000")
    page = response.content.decode()
    assert response.status_code == 200
    assert "That code is not valid" in page
    assert "Too many wrong codes" not in page


def test_a_wrong_code_still_makes_backup_codes_wait_too(operator):
    """As the wait message says: a wrong code counts against the app and the backup codes."""
    enroll_authenticator(operator)
    codes = sign_in.replace_backup_codes(user=operator)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert verify(operator.username, "000000").status_code == 200
        assert BackupCodeDevice.objects.get(user=operator).throttling_failure_count == 1
        assert verify(operator.username, codes[0]).status_code == 200  # refused: it waits
    with time_machine.travel(start + timedelta(seconds=2), tick=False):
        response = verify(operator.username, codes[0])
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
