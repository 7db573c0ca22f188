"""The two-step login, enrolment, backup codes, lockout, session expiry and logout."""

from __future__ import annotations

import html
import re
from base64 import b32decode, b32encode
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlencode

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from authority.accounts.models import BackupCode, TOTPDevice
from authority.audit.models import Action, AuditEntry
from tests.conftest import PASSWORD, current_code, enroll_authenticator

pytestmark = pytest.mark.django_db


def log_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def assert_signed_in(response) -> None:
    """The second factor was accepted: on to the home page, not back to a sign-in page."""
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("home")


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2F"


def test_it_rejects_a_wrong_password_with_a_readable_message(client, operator):
    response = log_in(client, operator.username, "wrong password")
    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED, actor=operator).exists()


def test_unknown_usernames_are_not_written_to_the_audit(client, db):
    log_in(client, "my secret password typed in the wrong box", "x")
    entry = AuditEntry.objects.get(action=Action.LOGIN_FAILED)
    assert entry.actor_username == "(unknown account)"
    assert "secret" not in str(entry.details)


def test_a_new_user_enrolls_an_authenticator_after_the_password(client, operator):
    response = log_in(client, operator.username)
    assert response["Location"] == reverse("accounts:enroll")
    page = client.get(reverse("accounts:enroll")).content.decode()
    assert 'src="data:image/svg+xml' in page  # the QR code
    secret_shown = re.search(r'data-testid="totp-secret">(.*?)</p>', page, re.S).group(1)
    device = TOTPDevice.objects.get(user=operator, confirmed=False)
    assert re.sub(r"<[^>]+>|\s", "", secret_shown) == b32encode(device.bin_key).decode()
    # Not yet signed in: the home page sends the user back to enrolment.
    assert client.get("/")["Location"].startswith(reverse("accounts:enroll"))

    response = client.post(reverse("accounts:enroll"), {"token": current_code(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())
    assert len(codes) == 10
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action=Action.SECOND_FACTOR_ENROLLED, actor=operator).exists()


def test_enrolment_rejects_a_wrong_code(client, operator):
    log_in(client, operator.username)
    client.get(reverse("accounts:enroll"))
    response = client.post(reverse("accounts:enroll"), {"token": "000000"})
    assert "does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=operator, confirmed=True).exists()


def test_an_enrolled_user_enters_the_code_from_the_app(client, operator):
    device = enroll_authenticator(operator)
    response = log_in(client, operator.username)
    assert response["Location"] == reverse("accounts:verify")
    bad = client.post(reverse("accounts:verify"), {"token": "123456"})
    assert "not valid" in bad.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    good = client.post(
        reverse("accounts:verify"), {"token": current_code(device), "next": "/audit/"}
    )
    assert good.status_code == 302
    assert good["Location"] == "/audit/"
    assert AuditEntry.objects.filter(action=Action.LOGIN, actor=operator).exists()
    assert AuditEntry.objects.filter(action=Action.SECOND_FACTOR_FAILED, actor=operator).exists()


def test_a_backup_code_works_once(client, operator, signed_in):
    enroll_authenticator(operator)
    page = signed_in(operator).post(reverse("accounts:backup_codes")).content.decode()
    code = re.findall(r"<li><code>(\w+)</code></li>", page)[0]

    log_in(client, operator.username)
    assert_signed_in(client.post(reverse("accounts:verify"), {"token": code}))
    assert client.get("/").status_code == 200

    second = Client()
    log_in(second, operator.username)
    response = second.post(reverse("accounts:verify"), {"token": code})
    assert response.status_code == 200
    assert "not valid" in response.content.decode()


def backup_codes_of(user, signed_in) -> list[str]:
    page = signed_in(user).post(reverse("accounts:backup_codes")).content.decode()
    return re.findall(r"<li><code>(\w+)</code></li>", page)


def test_backup_codes_are_not_in_the_database_in_clear(operator, signed_in):
    enroll_authenticator(operator)
    codes = backup_codes_of(operator, signed_in)
    assert len(codes) == 10
    stored = " ".join(BackupCode.objects.values_list("digest", flat=True))
    assert len(stored.split()) == 10
    assert not any(code in stored for code in codes)
    assert not StaticToken.objects.exists()


def test_a_backup_code_is_accepted_as_people_type_it(client, operator, signed_in):
    enroll_authenticator(operator)
    code = backup_codes_of(operator, signed_in)[3]
    log_in(client, operator.username)
    typed = f" {code[:4].upper()} {code[4:].upper()} "
    assert_signed_in(client.post(reverse("accounts:verify"), {"token": typed}))
    assert AuditEntry.objects.get(action=Action.BACKUP_CODE_USED).details == {"remaining": 9}


def test_backup_codes_survive_a_secret_key_rotation(client, operator, signed_in, settings):
    enroll_authenticator(operator)
    code = backup_codes_of(operator, signed_in)[0]
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-only-0123456789"
    log_in(client, operator.username)
    assert_signed_in(client.post(reverse("accounts:verify"), {"token": code}))


def test_codes_stored_in_clear_before_the_upgrade_still_work_once_and_no_longer_in_clear(
    client, operator
):
    enroll_authenticator(operator)
    old = StaticDevice.objects.create(user=operator, name="Backup codes", confirmed=True)
    old.token_set.create(token="abcd2345")
    migration = import_module("authority.accounts.migrations.0005_hash_existing_backup_codes")
    migration.hash_clear_codes(django_apps, None)
    assert not StaticToken.objects.exists() and not StaticDevice.objects.exists()
    log_in(client, operator.username)
    assert_signed_in(client.post(reverse("accounts:verify"), {"token": "abcd2345"}))
    second = Client()
    log_in(second, operator.username)
    assert second.post(reverse("accounts:verify"), {"token": "abcd2345"}).status_code == 200


def test_open_redirects_are_refused_after_login(client, operator):
    device = enroll_authenticator(operator)
    log_in(client, operator.username)
    response = client.post(
        reverse("accounts:verify"), {"token": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_account_locks_after_repeated_failures_with_a_clear_message(client, operator):
    for _ in range(4):
        assert log_in(client, operator.username, "wrong").status_code == 200
    locked = log_in(client, operator.username, "wrong")
    assert locked.status_code == 429
    assert "locked after 5 failed login attempts" in locked.content.decode()
    # Even the right password is refused while the lock lasts.
    assert log_in(client, operator.username).status_code == 429
    assert AuditEntry.objects.filter(action=Action.LOGIN_LOCKED_OUT, actor=operator).exists()


def test_the_lockout_is_per_account_not_per_client(client, operator, other_operator):
    for _ in range(5):
        log_in(client, operator.username, "wrong")
    # Same browser, other account: not locked.
    assert log_in(client, other_operator.username)["Location"] == reverse("accounts:enroll")


def test_a_supervisor_lifts_a_lockout(client, operator, supervisor, signed_in):
    for _ in range(5):
        log_in(client, operator.username, "wrong")
    response = signed_in(supervisor).post(reverse("accounts:lift_lockout", args=[operator.pk]))
    assert response.status_code == 302
    assert log_in(Client(), operator.username)["Location"] == reverse("accounts:enroll")
    assert AuditEntry.objects.filter(
        action=Action.LOGIN_UNLOCKED, target=operator.username
    ).exists()


def test_pages_carry_the_session_expiry_warning(operator, signed_in, settings):
    page = signed_in(operator).get("/").content.decode()
    assert f'data-session-seconds="{settings.SESSION_COOKIE_AGE}"' in page
    assert 'id="session-warning"' in page
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_the_session_ends_after_inactivity(operator, signed_in, settings):
    import time_machine
    from django.utils import timezone

    client = signed_in(operator)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 5)):
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_keepalive_extends_the_session(operator, signed_in, settings):
    """ "Stay signed in" a minute before the idle limit: the session outlives the moment it
    would have ended without it (the test above shows that it ends without one)."""
    import time_machine
    from django.utils import timezone

    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = signed_in(operator)
    with time_machine.travel(start + age - timedelta(minutes=1), tick=False):
        assert client.post(reverse("accounts:keepalive")).status_code == 204
    with time_machine.travel(start + age + timedelta(minutes=5), tick=False):
        assert client.get("/").status_code == 200


def test_logout_ends_the_session(operator, signed_in):
    client = signed_in(operator)
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    after_logout = client.get("/")
    assert after_logout.status_code == 302
    assert after_logout["Location"] == f"{reverse('accounts:login')}?next=%2F"
    assert AuditEntry.objects.filter(action=Action.LOGOUT, actor=operator).exists()


def test_logout_needs_a_post(operator, signed_in):
    assert signed_in(operator).get(reverse("accounts:logout")).status_code == 405


def test_deactivated_users_cannot_log_in(client, operator):
    operator.is_active = False
    operator.save()
    response = log_in(client, operator.username)
    assert response.status_code == 200
    assert "/accounts/enroll/" not in response.get("Location", "")


def secret_on_enrol_page(client: Client) -> str:
    page = client.get(reverse("accounts:enroll")).content.decode()
    shown = re.search(r'data-testid="totp-secret">(.*?)</p>', page, re.S).group(1)
    return re.sub(r"<[^>]+>|\s", "", shown)


def code_for(secret: str) -> str:
    return f"{totp(b32decode(secret)):06d}"


def test_each_login_session_is_shown_its_own_enrolment_secret(operator):
    # Someone who once had the password and looked at the enrolment page...
    snooper = Client()
    log_in(snooper, operator.username)
    seen_by_snooper = secret_on_enrol_page(snooper)

    # ...does not know the secret the real user enrols later.
    owner = Client()
    log_in(owner, operator.username)
    secret = secret_on_enrol_page(owner)
    assert secret != seen_by_snooper
    response = owner.post(reverse("accounts:enroll"), {"token": code_for(secret)})
    assert response.status_code == 200
    assert owner.get("/").status_code == 200

    device = TOTPDevice.objects.get(user=operator)
    assert device.confirmed
    assert b32encode(device.bin_key).decode() == secret
    # The snooper's session cannot enrol its own secret in the owner's place either.
    assert snooper.post(reverse("accounts:enroll"), {"token": code_for(seen_by_snooper)})[
        "Location"
    ].startswith(reverse("accounts:verify"))
    assert TOTPDevice.objects.filter(user=operator).count() == 1


def test_reloading_the_enrolment_page_keeps_the_secret_already_scanned(client, operator):
    log_in(client, operator.username)
    secret = secret_on_enrol_page(client)
    assert secret_on_enrol_page(client) == secret
    response = client.post(reverse("accounts:enroll"), {"token": code_for(secret)})
    assert response.status_code == 200
    assert client.get("/").status_code == 200


def test_the_enrolment_page_with_the_secret_is_never_cached(client, operator):
    log_in(client, operator.username)
    response = client.get(reverse("accounts:enroll"))
    assert 'data-testid="totp-secret"' in response.content.decode()
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_backup_codes_are_never_cached(operator, signed_in):
    client = signed_in(operator)
    shown = client.post(reverse("accounts:backup_codes"))
    assert re.findall(r"<li><code>(\w+)</code></li>", shown.content.decode())
    assert "no-store" in shown["Cache-Control"] and "private" in shown["Cache-Control"]
    assert "no-store" in client.get(reverse("accounts:backup_codes"))["Cache-Control"]


def test_the_backup_codes_after_enrolment_are_never_cached(client, operator):
    log_in(client, operator.username)
    secret = secret_on_enrol_page(client)
    shown = client.post(reverse("accounts:enroll"), {"token": code_for(secret)})
    assert len(re.findall(r"<li><code>(\w+)</code></li>", shown.content.decode())) == 10
    assert "no-store" in shown["Cache-Control"]


def hidden_next(page) -> str:
    return html.unescape(re.search(r'name="next" value="([^"]*)"', page.content.decode()).group(1))


def test_a_page_with_several_query_parameters_is_reached_whole_after_login(client, supervisor):
    device = enroll_authenticator(supervisor)
    wanted = "/statistics/?since=2024-01-01&region=3"
    to_login = client.get(wanted)["Location"]
    next_url = hidden_next(client.get(to_login))
    assert next_url == wanted

    to_verify = client.post(
        reverse("accounts:login"),
        {"username": supervisor.username, "password": PASSWORD, "next": next_url},
    )["Location"]
    next_url = hidden_next(client.get(to_verify))
    assert next_url == wanted
    response = client.post(to_verify, {"token": current_code(device), "next": next_url})
    assert response["Location"] == wanted


def test_a_new_user_reaches_the_page_with_several_query_parameters_after_enrolling(
    client, supervisor
):
    wanted = "/statistics/?since=2024-01-01&region=3"
    to_enroll = client.post(
        reverse("accounts:login") + "?" + urlencode({"next": wanted}),
        {"username": supervisor.username, "password": PASSWORD, "next": wanted},
    )["Location"]
    enrol_page = client.get(to_enroll)
    assert hidden_next(enrol_page) == wanted
    secret = secret_on_enrol_page(client)
    codes_page = client.post(to_enroll, {"token": code_for(secret), "next": wanted})
    assert f'href="{escape(wanted)}"' in codes_page.content.decode()


def test_a_foreign_next_stays_refused_after_the_password_step(client, operator):
    device = enroll_authenticator(operator)
    to_verify = client.post(
        reverse("accounts:login"),
        {
            "username": operator.username,
            "password": PASSWORD,
            "next": "https://evil.example/?a=1&b=2",
        },
    )["Location"]
    response = client.post(to_verify, {"token": current_code(device)})
    assert response["Location"] == "/"
