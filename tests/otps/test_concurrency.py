"""Simultaneous requests: a code is consumed once, authorized once, and quotas hold."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from authority.accounts.models import Region
from authority.formats.otp import otp_sha256_hex
from authority.otps import metrics, services
from authority.otps.models import Otp, OtpState
from tests.otps.conftest import counter, days_ago

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lazio() -> Region:
    # The regions come from a data migration, which an earlier transactional test's flush empties.
    region, _created = Region.objects.get_or_create(code="12", defaults={"name": "Lazio"})
    return region


THREADS = 8


def at_the_same_time(attempt: Callable[[], object]) -> list[object]:
    """Run `attempt` in THREADS threads released together; return results or exceptions."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            try:
                outcome = attempt()
            except Exception as error:
                outcome = error
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == THREADS
    return results


def test_concurrent_attempts_to_use_one_code_succeed_once(operator, lazio):
    issued = services.issue_otp(operator=operator, onset_date=days_ago(1))
    code_hash = otp_sha256_hex(issued.code)

    results = at_the_same_time(lambda: services.redeem_otp(otp_sha256_hex=code_hash))

    assert [type(result) for result in results].count(services.RedeemedOtp) == 1
    assert results.count(None) == THREADS - 1
    assert Otp.objects.get().state == OtpState.REDEEMED
    assert counter(metrics.OTP_REDEEMED, region_id=lazio.pk) == 1


def test_concurrent_authorizations_of_one_code_succeed_once(operator, other_operator):
    users = [operator, other_operator]
    turn = iter(range(THREADS))

    def authorize() -> object:
        return services.authorize_otp(
            operator=users[next(turn) % 2], code="KJ23IWY5UJ", onset_date=days_ago(1)
        )

    results = at_the_same_time(authorize)

    assert sum(isinstance(result, Otp) for result in results) == 1
    assert (
        sum(isinstance(result, services.OtpAlreadyAuthorizedError) for result in results)
        == THREADS - 1
    )
    assert counter(metrics.OTP_AUTHORIZED) == 1


def test_concurrent_issues_cannot_overrun_the_quota(operator, settings):
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 3

    results = at_the_same_time(
        lambda: services.issue_otp(operator=operator, onset_date=days_ago(1))
    )

    assert sum(isinstance(result, services.IssuedOtp) for result in results) == 3
    assert (
        sum(isinstance(result, services.OtpQuotaReachedError) for result in results) == THREADS - 3
    )
    assert Otp.objects.count() == 3
