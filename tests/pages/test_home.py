"""Each role's home page: an operator's actions and codes, a supervisor's region today and the
people who cannot work, an administrator's publication health and every region's surges; with
an upper bound on the queries each costs."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from authority.accounts.models import Role
from authority.federation.models import FederationRun
from authority.keys.models import Batch, PublicationRun, SigningKey
from authority.keys.services.signing_keys import rotate_signing_key
from authority.keys.services.storing import store_uploaded_keys
from authority.otps import services
from authority.statistics.services import increment, local_day
from tests.keys.conftest import uploaded_key

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
MORNING = datetime(2026, 12, 3, 10, 0, tzinfo=ROME)
APP_CODE = "KJ23IWY5UJ"  # DESIGN.md 6: a valid code, as a patient's app would show it


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


def section(page: str, test_id: str) -> str:
    """The HTML of the home page's section with this data-testid."""
    start = page.index(f'data-testid="{test_id}"')
    return page[start : page.index("</section>", start)]


def figure(page: str, test_id: str) -> int:
    start = page.index(f'data-testid="{test_id}">') + len(f'data-testid="{test_id}">')
    return int(page[start : page.index("<", start)])


def issue(operator, *, at: datetime | None = None):
    if at is None:
        return services.issue_otp(operator=operator, onset_date=local_day()).otp
    with time_machine.travel(at, tick=False):
        return services.issue_otp(operator=operator, onset_date=local_day()).otp


def home(client: Client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


# --- Operators -----------------------------------------------------------------------------------


def test_an_operator_sees_the_two_actions_and_their_codes_of_today(
    morning, operator, other_operator, signed_in
):
    yesterdays = issue(operator, at=MORNING - timedelta(hours=20))
    first, second = issue(operator), issue(operator)
    colleagues = issue(other_operator)
    page = home(signed_in(operator))
    assert 'href="/codes/issue/"' in page and 'href="/codes/authorize/"' in page
    today = section(page, "codes-of-today")
    assert "Codes you gave today: 2 of 100." in today
    assert f">{first.reference}<" in today and f">{second.reference}<" in today
    assert f">{yesterdays.reference}<" not in today
    assert f">{colleagues.reference}<" not in today
    assert today.count(">Revoke<") == 2  # both still usable: they can be stopped from here


def test_an_operator_sees_the_codes_about_to_expire(morning, operator, other_operator, signed_in):
    # Issued yesterday at 11:00: valid until 11:00 today, within the next two hours.
    expiring = issue(operator, at=MORNING - timedelta(hours=23))
    later = issue(operator, at=MORNING - timedelta(hours=20))  # until 14:00: not yet
    authorized = services.authorize_otp(operator=operator, code=APP_CODE, onset_date=local_day())
    revoked = issue(operator, at=MORNING - timedelta(hours=23, minutes=30))
    services.revoke_otp(actor=operator, otp=revoked)
    colleagues = issue(other_operator, at=MORNING - timedelta(hours=23))
    soon = section(home(signed_in(operator)), "expiring-codes")
    assert f">{expiring.reference}<" in soon
    assert f">{authorized.reference}<" in soon  # app codes work 30 minutes
    assert soon.index(f">{authorized.reference}<") < soon.index(f">{expiring.reference}<")
    for other in (later, revoked, colleagues):
        assert f">{other.reference}<" not in soon


def test_an_operator_with_nothing_to_do_is_told_so(morning, operator, signed_in):
    page = home(signed_in(operator))
    assert "You have not given any code today." in page
    assert "None right now." in section(page, "expiring-codes")


def test_an_operator_sees_no_region_figures_nor_people(operator, signed_in):
    page = home(signed_in(operator))
    for test_id in ("today", "people-to-watch", "publication-health"):
        assert f'data-testid="{test_id}"' not in page


# --- Supervisors ---------------------------------------------------------------------------------


def test_a_supervisor_sees_their_region_today(
    morning, supervisor, operator, foreign_operator, signed_in
):
    codes = [services.issue_otp(operator=operator, onset_date=local_day()) for _ in range(3)]
    services.authorize_otp(operator=operator, code=APP_CODE, onset_date=local_day())
    services.redeem_otp(otp_sha256_hex=hashlib.sha256(codes[0].code.encode()).hexdigest())
    services.revoke_otp(actor=operator, otp=codes[1].otp)
    issue(foreign_operator)  # another region's: not in Lazio's figures
    page = home(signed_in(supervisor))
    today = section(page, "today")
    assert "Lazio today" in today
    assert figure(today, "today-issued") == 3
    assert figure(today, "today-authorized") == 1
    assert figure(today, "today-redeemed") == 1
    assert figure(today, "today-revoked") == 1
    assert figure(today, "today-expired") == 0
    assert 'data-testid="codes-of-today"' not in page  # a region's day, not a list of codes


def test_a_supervisor_sees_who_cannot_work_and_reaches_their_page(
    supervisor, operator, make_user, lazio, lombardia, signed_in
):
    enroll_everyone = [supervisor, operator]
    locked = make_user("locked-lazio", Role.OPERATOR, lazio)
    invited = make_user("invited-lazio", Role.OPERATOR, lazio)
    invited.set_unusable_password()
    invited.save()
    not_enrolled = make_user("new-lazio", Role.OPERATOR, lazio)
    gone = make_user("gone-lazio", Role.OPERATOR, lazio, is_active=False)
    elsewhere = make_user("new-lombardia", Role.OPERATOR, lombardia)
    for person in (*enroll_everyone, locked):
        signed_in(person)  # enrolls an authenticator
    for _ in range(5):
        Client().post("/accounts/login/", {"username": locked.username, "password": "wrong"})

    people = section(home(signed_in(supervisor)), "people-to-watch")
    assert f'href="/accounts/people/{locked.pk}/"' in people
    assert "Locked out" in people
    assert f'href="/accounts/people/{invited.pk}/"' in people
    assert "has not chosen a password yet" in people
    assert f'href="/accounts/people/{not_enrolled.pk}/"' in people
    assert "has not set up the authenticator app yet" in people
    assert people.index(locked.username) < people.index(invited.username)  # locked first
    for other in (operator, gone, elsewhere, supervisor):
        assert f'href="/accounts/people/{other.pk}/"' not in people


def test_a_lock_lifted_leaves_the_list(supervisor, operator, signed_in):
    signed_in(operator)
    for _ in range(5):
        Client().post("/accounts/login/", {"username": operator.username, "password": "wrong"})
    client = signed_in(supervisor)
    assert "Locked out" in section(home(client), "people-to-watch")
    client.post(f"/accounts/people/{operator.pk}/lift-lockout/")
    people = section(home(client), "people-to-watch")
    assert "Everyone in your region can log in." in people


def test_a_supervisor_is_warned_of_a_surge_in_their_region_only(
    supervisor, lazio, lombardia, signed_in
):
    increment("otp_issued", region_id=lazio.pk, amount=40)
    increment("otp_issued", region_id=lombardia.pk, amount=50)
    page = home(signed_in(supervisor))
    assert 'data-testid="issuance-warning"' in page
    assert "Lazio: 40 codes today" in page
    assert "Lombardia" not in page


# --- Administrators ------------------------------------------------------------------------------


def published_batch(*, index: int, published_at: datetime) -> Batch:
    run = PublicationRun.objects.create(
        trigger=PublicationRun.Trigger.SCHEDULE,
        status=PublicationRun.Status.SUCCEEDED,
        finished_at=published_at,
    )
    return Batch.objects.create(
        run=run, status=Batch.Status.PUBLISHED, index=index, published_at=published_at
    )


def test_an_administrator_sees_publication_health(morning, administrator, lazio, signed_in):
    rotate_signing_key(actor=None)
    published_batch(index=6, published_at=MORNING - timedelta(hours=5))
    published_batch(index=7, published_at=MORNING - timedelta(minutes=40))
    store_uploaded_keys(
        keys=[uploaded_key(1) for _ in range(3)],
        region_id=lazio.pk,
        onset_date=None,
        uploaded_on=local_day(),
    )
    health = section(home(signed_in(administrator)), "publication-health")
    assert "Batch 7, published 40\xa0minutes ago" in health
    assert "3 keys stored and not yet published" in health
    assert "Version v1, made today." in health
    assert "Nobody is guessing codes." in health
    assert "health-warn" not in health
    assert 'data-testid="health-federation"' not in health  # federation is off


def test_an_old_signing_key_is_flagged(morning, administrator, signed_in, settings):
    settings.SIGNING_KEY_WARNING_DAYS = 365
    key = rotate_signing_key(actor=None)
    SigningKey.objects.filter(pk=key.pk).update(created_at=timezone.now() - timedelta(days=400))
    health = section(home(signed_in(administrator)), "publication-health")
    assert "made 400 days ago" in health
    assert "Older than 365 days: prepare a new key and register it with Apple and Google." in health


def test_a_missing_signing_key_is_flagged(administrator, signed_in):
    health = section(home(signed_in(administrator)), "publication-health")
    assert "No active signing key: nothing can be published." in health


def test_a_failed_publication_is_flagged(morning, administrator, signed_in):
    rotate_signing_key(actor=None)
    PublicationRun.objects.create(
        trigger=PublicationRun.Trigger.SCHEDULE,
        status=PublicationRun.Status.FAILED,
        finished_at=timezone.now(),
    )
    health = section(home(signed_in(administrator)), "publication-health")
    assert "The last publication failed." in health


def test_a_publication_that_did_not_happen_is_flagged(morning, administrator, signed_in, settings):
    settings.PUBLICATION_SCHEDULE = "5 * * * *"
    rotate_signing_key(actor=None)
    published_batch(index=1, published_at=MORNING - timedelta(hours=3, minutes=50))  # 06:10
    health = section(home(signed_in(administrator)), "publication-health")
    # The 07:05 run should have finished by 07:50 at the latest: it is 10:00.
    assert "The publication due at" in health
    assert "Check that the Celery worker and beat are running." in health


def test_a_publication_on_schedule_is_not_flagged(morning, administrator, signed_in, settings):
    settings.PUBLICATION_SCHEDULE = "5 * * * *"
    rotate_signing_key(actor=None)
    published_batch(index=1, published_at=MORNING - timedelta(minutes=50))  # 09:10
    health = section(home(signed_in(administrator)), "publication-health")
    assert "The publication due at" not in health


def test_the_gateway_is_shown_when_federation_is_on(morning, administrator, signed_in, settings):
    settings.FEDERATION_GATEWAY_URL = "https://gateway.example"
    FederationRun.objects.create(
        kind=FederationRun.Kind.UPLOAD,
        trigger=FederationRun.Trigger.SCHEDULE,
        status=FederationRun.Status.FAILED,
    )
    health = section(home(signed_in(administrator)), "publication-health")
    federation = health[health.index('data-testid="health-federation"') :]
    assert "health-warn" in health[: health.index('data-testid="health-federation"')][-40:]
    assert "Last upload 0\xa0minutes ago: Failed." in federation
    assert "No download yet." in federation


def test_an_administrator_sees_every_regions_surge(administrator, lazio, lombardia, signed_in):
    increment("otp_issued", region_id=lazio.pk, amount=40)
    increment("otp_authorized", region_id=lombardia.pk, amount=50)
    page = home(signed_in(administrator))
    assert "Lombardia: 50 codes today" in page and "Lazio: 40 codes today" in page
    assert figure(section(page, "today"), "today-issued") == 40  # the country's day
    assert 'href="/codes/issue/"' not in page  # administrators give no codes


# --- Queries: a bound per role, whatever the data -----------------------------------------------


@pytest.fixture
def busy_region(morning, operator, other_operator, make_user, lazio, signed_in):
    """A region with codes of every kind and people in every state."""
    for person in (operator, other_operator):
        for hours_ago in (1, 2, 23, 30):
            issue(person, at=MORNING - timedelta(hours=hours_ago))
    services.authorize_otp(operator=operator, code=APP_CODE, onset_date=local_day())
    for number in range(5):
        person = make_user(f"waiting-{number}", Role.OPERATOR, lazio)
        if number % 2:
            person.set_unusable_password()
            person.save()
    increment("otp_issued", region_id=lazio.pk, amount=40)


@pytest.mark.parametrize(
    ("who", "bound"),
    # Session (read and save), user and authenticator take 4 of these on every page.
    [("operator", 10), ("supervisor", 11), ("administrator", 17)],
)
def test_a_home_page_costs_a_bounded_number_of_queries(
    request,
    busy_region,
    signed_in,
    settings,
    django_assert_max_num_queries,
    is_postgres,
    who,
    bound,
):
    settings.FEDERATION_GATEWAY_URL = "https://gateway.example"
    rotate_signing_key(actor=None)
    published_batch(index=1, published_at=MORNING - timedelta(minutes=30))
    if who == "administrator" and is_postgres:
        bound += 3  # the keys-waiting count sets and restores the planner's nested loops
    client = signed_in(request.getfixturevalue(who))
    with django_assert_max_num_queries(bound):
        assert client.get("/").status_code == 200
