"""Daily quotas per operator and per region, and the warning about unusual issuance."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from authority.otps import metrics, services
from authority.otps.models import Otp
from authority.statistics.services import increment, local_day
from tests.otps.conftest import days_ago

pytestmark = pytest.mark.django_db


def issue(user):
    return services.issue_otp(operator=user, onset_date=days_ago(1))


def test_it_refuses_an_operator_beyond_their_daily_quota(
    operator, signed_in, issue_on_page, settings
):
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 2
    client = signed_in(operator)
    issue_on_page(client)
    issue_on_page(client)
    form = client.get("/codes/issue/").context["form"]
    response = client.post(
        "/codes/issue/",
        {
            "form_token": form.initial["form_token"],
            "onset_kind": "symptoms",
            "onset_date": days_ago(1),
        },
    )
    assert response.status_code == 200
    assert "You have reached your limit of 2 codes for today." in response.content.decode()
    assert Otp.objects.count() == 2
    entry = AuditEntry.objects.get(action=Action.OTP_QUOTA_REACHED)
    assert (entry.actor, entry.details) == (operator, {"scope": "operator", "limit": 2})


def test_authorizations_count_against_the_quota(operator, signed_in, settings):
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 1
    issue(operator)
    response = signed_in(operator).post(
        "/codes/authorize/",
        {"code": "KJ23IWY5UJ", "onset_kind": "symptoms", "onset_date": days_ago(1)},
    )
    assert "You have reached your limit of 1 codes for today." in response.content.decode()


def test_the_operator_quota_starts_again_the_next_day(operator, settings):
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 1
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        issue(operator)
        with pytest.raises(services.OtpQuotaReachedError):
            issue(operator)
        traveller.shift(timedelta(days=1))
        assert issue(operator).code


def test_quotas_are_per_operator(operator, other_operator, settings):
    settings.OTP_QUOTA_PER_OPERATOR_PER_DAY = 1
    issue(operator)
    assert issue(other_operator).code


def test_it_refuses_a_region_beyond_its_daily_quota(
    operator, other_operator, foreign_operator, settings
):
    settings.OTP_QUOTA_PER_REGION_PER_DAY = 2
    issue(operator)
    issue(other_operator)
    with pytest.raises(services.OtpQuotaReachedError) as refusal:
        issue(operator)
    assert refusal.value.scope == "region"
    assert "Your region has reached its limit of 2 codes" in refusal.value.message
    assert issue(foreign_operator).code
    assert AuditEntry.objects.get(action=Action.OTP_QUOTA_REACHED).details["scope"] == "region"


def seed_history(region, per_day: int, today: int) -> None:
    for days in range(1, 15):
        increment(
            metrics.OTP_ISSUED,
            region_id=region.pk,
            amount=per_day,
            day=local_day() - timedelta(days=days),
        )
    increment(metrics.OTP_ISSUED, region_id=region.pk, amount=today)


def test_administrators_are_warned_of_unusual_issuance(administrator, signed_in, lazio, lombardia):
    seed_history(lazio, per_day=10, today=31)
    seed_history(lombardia, per_day=20, today=45)  # a busy day, not 3x the usual
    response = signed_in(administrator).get("/codes/")
    assert [surge.region for surge in response.context["surges"]] == [lazio]
    assert (
        "Lazio: 31 codes today, against 10.0 a day on average recently."
        in response.content.decode()
    )


def test_small_numbers_never_raise_the_warning(administrator, signed_in, lazio, settings):
    settings.OTP_SURGE_FLOOR = 30
    seed_history(lazio, per_day=0, today=30)
    assert (
        'data-testid="issuance-warning"'
        not in signed_in(administrator).get("/codes/").content.decode()
    )


def test_only_administrators_see_the_warning(supervisor, signed_in, lazio):
    seed_history(lazio, per_day=1, today=100)
    assert (
        'data-testid="issuance-warning"'
        not in signed_in(supervisor).get("/codes/").content.decode()
    )
