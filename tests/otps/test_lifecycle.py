"""The life of a code: pending, then redeemed, expired or revoked; then only counters remain."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from authority.formats.otp import otp_sha256_hex
from authority.l10n import moments
from authority.otps import metrics, services
from authority.otps.models import OnsetKind, Otp, OtpState
from tasks.otps import expire_and_purge_codes
from tests.otps.conftest import counter, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(operator) -> services.IssuedOtp:
    return services.issue_otp(operator=operator, onset_date=days_ago(4), onset_kind=OnsetKind.TEST)


def sha(issued: services.IssuedOtp) -> str:
    return otp_sha256_hex(issued.code)


def test_checking_a_code_does_not_consume_it(issued):
    assert services.check_otp(otp_sha256_hex=sha(issued))
    assert services.check_otp(otp_sha256_hex=sha(issued).upper())
    assert Otp.objects.get().state == OtpState.PENDING


def test_checking_rejects_unknown_and_malformed_hashes(issued):
    assert not services.check_otp(otp_sha256_hex=otp_sha256_hex("KJ23IWY5UJ"))
    assert not services.check_otp(otp_sha256_hex="not hex")
    assert not services.check_otp(otp_sha256_hex=issued.code)


def test_redeeming_returns_the_onset_and_region_once(issued, lazio):
    redeemed = services.redeem_otp(otp_sha256_hex=sha(issued))
    assert redeemed == services.RedeemedOtp(onset_date=days_ago(4), onset_kind="test", region=lazio)
    assert services.redeem_otp(otp_sha256_hex=sha(issued)) is None
    assert not services.check_otp(otp_sha256_hex=sha(issued))
    otp = Otp.objects.get()
    assert otp.state == OtpState.REDEEMED
    assert otp.closed_at is not None


def test_redeeming_counts_the_redemption_and_its_time_to_redeem(operator, lazio):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        issued = services.issue_otp(operator=operator, onset_date=days_ago(1))
        traveller.shift(timedelta(minutes=3))
        services.redeem_otp(otp_sha256_hex=sha(issued))
    assert counter(metrics.OTP_REDEEMED, region_id=lazio.pk) == 1
    assert counter(metrics.OTP_TIME_TO_REDEEM, region_id=lazio.pk, bucket="<=5m") == 1


@pytest.mark.parametrize(
    ("elapsed", "bucket"),
    [
        (timedelta(seconds=59), "<=1m"),
        (timedelta(minutes=1), "<=1m"),
        (timedelta(minutes=1, seconds=1), "<=5m"),
        (timedelta(minutes=29), "<=30m"),
        (timedelta(minutes=59), "<=1h"),
        (timedelta(hours=5), "<=6h"),
        (timedelta(hours=23), "<=24h"),
        (timedelta(hours=25), ">24h"),
    ],
)
def test_time_to_redeem_falls_in_its_bucket(elapsed, bucket):
    assert metrics.time_to_redeem_bucket(elapsed) == bucket


def test_it_rejects_expired_code_even_before_housekeeping(issued):
    with time_machine.travel(issued.expires_at + timedelta(seconds=1)):
        assert not services.check_otp(otp_sha256_hex=sha(issued))
        assert services.redeem_otp(otp_sha256_hex=sha(issued)) is None
    assert Otp.objects.get().state == OtpState.PENDING


def test_revoked_codes_cannot_be_redeemed(issued, operator, lazio):
    assert services.revoke_otp(actor=operator, otp=issued.otp)
    assert services.redeem_otp(otp_sha256_hex=sha(issued)) is None
    assert not services.revoke_otp(actor=operator, otp=issued.otp)
    assert counter(metrics.OTP_REVOKED, region_id=lazio.pk) == 1
    assert AuditEntry.objects.filter(action=Action.OTP_REVOKED, actor=operator).count() == 1


def test_an_operator_revokes_a_pending_code_from_the_list(issued, operator, signed_in):
    client = signed_in(operator)
    page = client.get("/codes/").content.decode()
    assert f"/codes/{issued.otp.pk}/revoke/" in page
    response = client.post(f"/codes/{issued.otp.pk}/revoke/")
    assert response.status_code == 302
    assert "revoked" in client.get(response["Location"]).content.decode()
    assert Otp.objects.get().state == OtpState.REVOKED


def test_another_operator_cannot_revoke_it(issued, other_operator, signed_in):
    assert signed_in(other_operator).post(f"/codes/{issued.otp.pk}/revoke/").status_code == 404
    assert Otp.objects.get().state == OtpState.PENDING


def test_the_list_shows_references_states_and_times_never_codes(issued, operator, signed_in):
    page = signed_in(operator).get("/codes/").content.decode()
    assert issued.otp.reference in page
    assert "Waiting for the app" in page
    assert issued.code not in page


def test_the_list_writes_the_closing_time_as_the_other_times(issued, operator, signed_in):
    services.revoke_otp(actor=operator, otp=issued.otp)
    closed = moments.short_datetime(Otp.objects.get().closed_at)
    page = signed_in(operator).get("/codes/").content.decode()
    assert f'data-label="Closed">{closed}</td>' in page


def test_the_list_shows_a_pending_code_past_its_expiry_as_expired(issued, operator, signed_in):
    with time_machine.travel(issued.expires_at + timedelta(minutes=1)):
        page = signed_in(operator).get("/codes/?state=expired").content.decode()
    assert issued.otp.reference in page
    assert "/revoke/" not in page


def test_operators_see_their_codes_supervisors_their_regions(
    operator, other_operator, foreign_operator, supervisor, administrator, signed_in
):
    mine = services.issue_otp(operator=operator, onset_date=days_ago(1)).otp
    colleagues = services.issue_otp(operator=other_operator, onset_date=days_ago(1)).otp
    foreign = services.issue_otp(operator=foreign_operator, onset_date=days_ago(1)).otp

    def references(user):
        return {otp.reference for otp in signed_in(user).get("/codes/").context["page"]}

    assert references(operator) == {mine.reference}
    assert references(supervisor) == {mine.reference, colleagues.reference}
    assert references(administrator) == {mine.reference, colleagues.reference, foreign.reference}


def test_housekeeping_marks_expired_codes_once_and_counts_them(operator, lazio, settings):
    settings.OTP_RECORD_GRACE_HOURS = 48
    issued = [services.issue_otp(operator=operator, onset_date=days_ago(1)) for _ in range(3)]
    services.redeem_otp(otp_sha256_hex=sha(issued[0]))
    with time_machine.travel(issued[-1].expires_at + timedelta(minutes=1)):
        assert expire_and_purge_codes.apply().get() == {"expired": 2, "deleted": 0}
        assert expire_and_purge_codes.apply().get() == {"expired": 0, "deleted": 0}
    assert counter(metrics.OTP_EXPIRED, region_id=lazio.pk) == 2
    assert Otp.objects.filter(state=OtpState.EXPIRED).count() == 2


def test_housekeeping_deletes_rows_after_the_grace_period_and_counters_remain(
    operator, lazio, settings
):
    settings.OTP_RECORD_GRACE_HOURS = 6
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        used, revoked, left = (
            services.issue_otp(operator=operator, onset_date=days_ago(1)) for _ in range(3)
        )
        services.redeem_otp(otp_sha256_hex=sha(used))
        services.revoke_otp(actor=operator, otp=revoked.otp)
        traveller.shift(timedelta(hours=5))
        assert services.purge_closed_otps() == 0
        traveller.shift(timedelta(hours=1, seconds=1))
        assert services.purge_closed_otps() == 2
        assert set(Otp.objects.values_list("pk", flat=True)) == {left.otp.pk}
        traveller.move_to(left.expires_at + timedelta(hours=6, minutes=1))
        assert expire_and_purge_codes.apply().get() == {"expired": 1, "deleted": 1}
    assert not Otp.objects.exists()
    assert counter(metrics.OTP_ISSUED, region_id=lazio.pk) == 3
    assert counter(metrics.OTP_REDEEMED, region_id=lazio.pk) == 1
    assert counter(metrics.OTP_REVOKED, region_id=lazio.pk) == 1
    assert counter(metrics.OTP_EXPIRED, region_id=lazio.pk) == 1
