"""E-mail through a real SMTP server (aiosmtpd, started by the test): invitations, password
resets and lockout notices arrive, in the recipient's language, and their links work once."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail as django_mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from authority.accounts.lockout import locked_until
from authority.accounts.models import Role, User
from authority.audit.models import Action, AuditEntry
from tests.conftest import PASSWORD, enroll_authenticator
from tests.smtp_server import (
    Mailbox,
    html_of,
    link_in,
    start,
    text_of,
    tls_context_for_localhost,
    use_server,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long and quiet river at dawn"
ITALIAN_MONTHS = [
    *("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno"),
    *("luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"),
]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the tasks that send) when the block ends, as a real
    commit would: until then nothing is sent."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def invite(client: Client, **fields: str):
    data = {
        "username": "nina",
        "first_name": "Nina",
        "last_name": "Nuova",
        "email": "nina.nuova@asl.example.org",
        "language": "it",
        "role": "operator",
    }
    data.update(fields)
    return client.post(reverse("accounts:invite"), data)


def choose_password(browser: Client, link: str, password: str = NEW_PASSWORD):
    opened = browser.get(path_of(link))
    if opened.status_code != 302:
        return opened
    return browser.post(opened["Location"], {"new_password1": password, "new_password2": password})


# ------------------------------------------------------------------------ invitations


def test_an_invitation_arrives_by_e_mail_in_the_chosen_language_and_its_link_works_once(
    smtp, supervisor, signed_in, committed, settings
):
    settings.SITE_URL = "https://authority.example.org"
    with committed() as callbacks:
        page = invite(signed_in(supervisor))
        assert smtp.messages == []  # nothing before the commit
    assert len(callbacks) == 1
    assert page.status_code == 200
    assert "An e-mail with the link is on its way to nina.nuova@asl.example.org" in (
        page.content.decode()
    )
    message = smtp.only("nina.nuova@asl.example.org")
    assert message["To"] == "nina.nuova@asl.example.org"
    assert message["Content-Language"] == "it"
    text, html = text_of(message), html_of(message)
    assert "Nina Nuova" in text and "nina" in text
    assert "Supervisor-Lazio" in text  # who invited
    assert '<html lang="it">' in html and "Nina Nuova" in html
    valid_until = timezone.localtime(User.objects.get(username="nina").invited_at) + timedelta(
        days=3
    )
    # Month names from Django's Italian locale (their case is the dates work's, issue 14).
    expected = f"{valid_until.day} {ITALIAN_MONTHS[valid_until.month - 1]} {valid_until.year}"
    assert expected in text.lower()
    link = link_in(message, "/accounts/invitation/")
    assert link.startswith("https://authority.example.org/accounts/invitation/")
    assert link in html

    browser = Client()
    assert choose_password(browser, link)["Location"] == reverse("accounts:login")
    nina = User.objects.get(username="nina")
    assert nina.check_password(NEW_PASSWORD)
    assert choose_password(Client(), link).status_code == 400  # a second use is refused


def test_the_invitation_e_mail_is_english_for_an_english_speaker(
    smtp, administrator, signed_in, committed, lombardia
):
    with committed():
        invite(
            signed_in(administrator),
            username="eve",
            email="eve@asl.example.org",
            language="en",
            region=str(lombardia.pk),
        )
    message = smtp.only("eve@asl.example.org")
    assert "choose a password" in message["Subject"]
    assert "Hello Nina Nuova" in text_of(message)
    assert "Lombardia" in text_of(message)
    assert User.objects.get(username="eve").language == "en"


def test_an_expired_invitation_link_from_the_e_mail_is_refused(
    smtp, supervisor, signed_in, committed
):
    with committed():
        invite(signed_in(supervisor))
    link = link_in(smtp.only("nina.nuova@asl.example.org"), "/accounts/invitation/")
    with time_machine.travel(timezone.now() + timedelta(days=4), tick=False):
        refused = choose_password(Client(), link)
    assert refused.status_code == 400
    assert not User.objects.get(username="nina").has_usable_password()


def test_a_renewed_invitation_is_e_mailed_again(smtp, supervisor, signed_in, committed):
    client = signed_in(supervisor)
    with committed():
        invite(client)
    nina = User.objects.get(username="nina")
    with committed():
        client.post(reverse("accounts:renew_invitation", args=[nina.pk]))
    assert len(smtp.to("nina.nuova@asl.example.org")) == 2


def test_an_smtp_server_that_is_down_does_not_break_the_invitation_page(
    supervisor, signed_in, committed, settings, caplog
):
    use_server(settings, Mailbox(host="127.0.0.1", port=9))  # nothing listens there
    with committed():
        page = invite(signed_in(supervisor))
    assert page.status_code == 200
    assert 'data-testid="invitation-link"' in page.content.decode()  # the link, shown once
    assert User.objects.filter(username="nina").exists()


def test_a_refused_recipient_is_not_tried_again_and_no_log_names_the_address(
    smtp, supervisor, signed_in, committed, caplog
):
    smtp.refused.add("nina.nuova@asl.example.org")
    caplog.set_level(logging.DEBUG)
    with committed():
        page = invite(signed_in(supervisor))
    assert page.status_code == 200
    assert smtp.messages == []
    nina = User.objects.get(username="nina")
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # not the server's
    failures = [r for r in ours if r.exc_info and "DeliveryRefused" in repr(r.exc_info[1])]
    assert len(failures) == 1  # refused for good: no retry
    assert f"invitation e-mail to user {nina.pk}: SMTP reply 550" in str(failures[0].exc_info[1])
    logged = "\n".join(logging.Formatter().format(r) for r in ours)
    assert "nina.nuova" not in logged


def test_no_link_reaches_a_log_line(smtp, supervisor, signed_in, committed, caplog):
    caplog.set_level(logging.DEBUG)
    with committed():
        invite(signed_in(supervisor))
    token = path_of(link_in(smtp.only("nina.nuova@asl.example.org"), "/accounts/invitation/"))
    token = token.rstrip("/").rsplit("/", 1)[1]
    assert token not in caplog.text


def test_the_invitation_needs_an_address(supervisor, signed_in):
    page = invite(signed_in(supervisor), email="")
    assert "This field is required" in page.content.decode()
    assert not User.objects.filter(username="nina").exists()


# ---------------------------------------------------------------------- password reset


def ask_for_reset(client: Client, address: str):
    return client.post(reverse("accounts:password_reset"), {"email": address})


@pytest.fixture
def owner(operator) -> User:
    operator.email = "mario.rossi@asl.example.org"
    operator.save()
    enroll_authenticator(operator)
    return operator


def test_a_reset_link_arrives_works_once_and_the_second_factor_is_still_asked(
    smtp, owner, committed
):
    browser = Client()
    with committed():
        sent = ask_for_reset(browser, "Mario.Rossi@ASL.example.org")  # any case
    assert sent["Location"] == reverse("accounts:password_reset_sent")
    message = smtp.only("mario.rossi@asl.example.org")
    link = link_in(message, "/accounts/password-reset/")
    assert "operator-lazio" in text_of(message)
    assert message["Content-Language"] == "en"  # the language of the page

    opened = browser.get(path_of(link))
    token = path_of(link).rstrip("/").rsplit("/", 1)[1]
    assert opened.status_code == 302 and token not in opened["Location"]
    assert opened["Location"].endswith("/set-password/")
    done = browser.post(
        opened["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == reverse("accounts:login")
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.filter(action=Action.PASSWORD_SET, actor=owner).get()
    assert entry.details == {"via": "reset link"}

    # Used: refused, from this browser and any other.
    assert Client().get(path_of(link)).status_code == 400
    again = browser.get(path_of(link))
    assert again.status_code == 400
    assert "This link does not work" in again.content.decode()

    # The new password leads to the second factor, not into the site.
    login = Client().post(
        reverse("accounts:login"), {"username": owner.username, "password": NEW_PASSWORD}
    )
    assert login["Location"] == reverse("accounts:verify")


def after_local_minutes(minutes: int):
    """The moment to travel to for `minutes` to have passed on Django's token clock: tokens
    count in local time, and time_machine's naive clock is UTC's."""
    offset = timezone.localtime().utcoffset() or timedelta(0)
    return timezone.now() + offset + timedelta(minutes=minutes)


def test_an_expired_reset_link_is_refused(smtp, owner, committed, settings):
    with committed():
        ask_for_reset(Client(), owner.email)
    link = link_in(smtp.only(owner.email), "/accounts/password-reset/")
    later = after_local_minutes(settings.PASSWORD_RESET_LINK_MINUTES + 2)
    with time_machine.travel(later, tick=False):
        response = Client().get(path_of(link))
    assert response.status_code == 400
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_a_reset_link_still_works_shortly_before_it_expires(smtp, owner, committed, settings):
    with committed():
        ask_for_reset(Client(), owner.email)
    link = link_in(smtp.only(owner.email), "/accounts/password-reset/")
    later = after_local_minutes(settings.PASSWORD_RESET_LINK_MINUTES - 2)
    with time_machine.travel(later, tick=False):
        assert choose_password(Client(), link)["Location"] == reverse("accounts:login")


def test_an_invitation_token_is_no_reset_token(smtp, owner):
    from authority.accounts.services.invitations import invitation_path

    token = invitation_path(owner).rstrip("/").rsplit("/", 1)[1]
    uid = invitation_path(owner).rstrip("/").rsplit("/", 2)[1]
    response = Client().get(reverse("accounts:password_reset_confirm", args=[uid, token]))
    assert response.status_code == 400


def test_the_reset_page_in_italian_gets_an_italian_e_mail(smtp, owner, committed):
    browser = Client()
    browser.cookies["django_language"] = "it"
    with committed():
        ask_for_reset(browser, owner.email)
    assert smtp.only(owner.email)["Content-Language"] == "it"


def test_asking_never_tells_whether_an_address_is_known(smtp, owner, lazio, committed):
    invited = User(username="invited", email="invited@asl.example.org", region=lazio)
    invited.set_unusable_password()
    invited.save()
    gone = User(username="gone", email="gone@asl.example.org", region=lazio, is_active=False)
    gone.set_password(PASSWORD)
    gone.save()

    # For each address, the redirect (status, target), then the page it leads to.
    pages: list[tuple[int, str] | str] = []
    with committed():
        for address in (owner.email, "nobody@asl.example.org", invited.email, gone.email):
            browser = Client()
            response = ask_for_reset(browser, address)
            pages.append((response.status_code, response["Location"]))
            page = browser.get(response["Location"]).content.decode()
            pages.append(
                re.sub(r'(csrfmiddlewaretoken" value|csrf-token" content)="[^"]+"', "", page)
            )
    assert len(set(pages)) == 2  # the same redirect, then the same page, for every address
    # Only the active account with a password gets a link: an invited person needs an
    # invitation, a deactivated one stays deactivated.
    assert [m["X-Test-Envelope-To"] for m in smtp.messages] == [owner.email]


def test_a_deactivated_persons_link_stops_working(smtp, owner, committed):
    with committed():
        ask_for_reset(Client(), owner.email)
    link = link_in(smtp.only(owner.email), "/accounts/password-reset/")
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert Client().get(path_of(link)).status_code == 400


def test_a_login_in_the_meantime_ends_the_link(smtp, owner, committed, signed_in):
    with committed():
        ask_for_reset(Client(), owner.email)
    link = link_in(smtp.only(owner.email), "/accounts/password-reset/")
    Client().post(reverse("accounts:login"), {"username": owner.username, "password": PASSWORD})
    assert Client().get(path_of(link)).status_code == 400


def test_asking_again_and_again_sends_one_e_mail_per_interval(smtp, owner, committed, settings):
    with committed():
        for _ in range(5):
            ask_for_reset(Client(), owner.email)
    assert len(smtp.to(owner.email)) == 1
    later = timezone.now() + timedelta(minutes=settings.PASSWORD_RESET_EMAIL_INTERVAL_MINUTES + 1)
    with time_machine.travel(later, tick=False), committed():
        ask_for_reset(Client(), owner.email)
    assert len(smtp.to(owner.email)) == 2


def test_a_reset_ends_a_lockout(smtp, owner, committed):
    for _ in range(5):
        Client().post(reverse("accounts:login"), {"username": owner.username, "password": "x"})
    assert locked_until(owner.username) is not None
    with committed():
        ask_for_reset(Client(), owner.email)
    choose_password(Client(), link_in(smtp.only(owner.email), "/accounts/password-reset/"))
    assert locked_until(owner.username) is None
    login = Client().post(
        reverse("accounts:login"), {"username": owner.username, "password": NEW_PASSWORD}
    )
    assert login["Location"] == reverse("accounts:verify")


def test_the_reset_e_mail_is_in_the_language_of_the_page(smtp, owner, committed):
    browser = Client()
    browser.cookies["django_language"] = "en"
    with committed():
        ask_for_reset(browser, owner.email)
    message = smtp.only(owner.email)
    assert "Choose a new password" in message["Subject"]
    assert "60 minutes" in text_of(message)


def test_a_login_remembers_the_language_of_the_pages_for_the_e_mails(operator):
    assert operator.language == "it"
    browser = Client()
    browser.cookies["django_language"] = "en"
    browser.post(reverse("accounts:login"), {"username": operator.username, "password": PASSWORD})
    operator.refresh_from_db()
    assert operator.language == "en"


# ---------------------------------------------------------------------- lockout notices


def fail_logins(username: str, times: int) -> None:
    for _ in range(times):
        Client().post(reverse("accounts:login"), {"username": username, "password": "wrong"})


def with_address(user: User, address: str, language: str = "it") -> User:
    user.email, user.language = address, language
    user.save()
    return user


def test_the_supervisors_of_the_region_get_one_notice_per_lockout(
    smtp, operator, supervisor, foreign_supervisor, administrator, make_user, lazio, committed
):
    with_address(supervisor, "capo@asl.example.org")
    second = with_address(
        make_user("supervisor2-lazio", Role.SUPERVISOR, lazio), "vice@asl.example.org", "en"
    )
    with_address(foreign_supervisor, "lombardia@asl.example.org")
    with_address(administrator, "admin@example.org")
    with committed():
        fail_logins(operator.username, 8)  # 5 to lock, 3 more refused while locked
    assert sorted(m["X-Test-Envelope-To"] for m in smtp.messages) == [
        "capo@asl.example.org",
        "vice@asl.example.org",
    ]
    italian, english = smtp.only("capo@asl.example.org"), smtp.only(second.email)
    assert "operator-lazio" in italian["Subject"]
    assert (italian["Content-Language"], english["Content-Language"]) == ("it", "en")
    assert "has been locked after 5 wrong passwords" in text_of(english)
    until = timezone.localtime(locked_until(operator.username))
    expected = f"{until.day} {ITALIAN_MONTHS[until.month - 1]} {until.year}"
    assert expected in text_of(italian).lower()
    assert until.strftime("%H:%M") in text_of(english)
    assert f"/accounts/people/{operator.pk}/" in text_of(english)
    assert AuditEntry.objects.filter(action=Action.LOGIN_LOCKED_OUT, actor=operator).count() == 1
    refused = AuditEntry.objects.filter(
        action=Action.LOGIN_FAILED, actor=operator, details__refused="locked out"
    )
    assert refused.count() == 3


def test_a_new_lockout_after_the_first_ends_is_a_new_notice(
    smtp, operator, supervisor, committed, settings
):
    with_address(supervisor, "capo@asl.example.org")
    with committed():
        fail_logins(operator.username, 5)
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    with time_machine.travel(later, tick=False), committed():
        fail_logins(operator.username, 5)
    assert len(smtp.to("capo@asl.example.org")) == 2


def test_administrators_hear_of_a_locked_supervisor_or_administrator(
    smtp, supervisor, administrator, make_user, committed
):
    with_address(administrator, "admin@example.org")
    other = with_address(make_user("admin2", Role.ADMINISTRATOR), "admin2@example.org")
    with committed():
        fail_logins(supervisor.username, 5)
        fail_logins(administrator.username, 5)
    assert len(smtp.to("admin@example.org")) == 1  # the supervisor's, not their own
    assert len(smtp.to(other.email)) == 2


def test_lifting_a_lockout_is_for_locked_accounts_only(operator, supervisor, signed_in, committed):
    client = signed_in(supervisor)
    response = client.post(reverse("accounts:lift_lockout", args=[operator.pk]), follow=True)
    assert "is not locked out" in response.content.decode()
    assert not AuditEntry.objects.filter(action=Action.LOGIN_UNLOCKED).exists()


# ---------------------------------------------------------------------- SMTP settings


def test_starttls_with_a_verified_certificate(tmp_path, monkeypatch, settings, owner, committed):
    context, ca_file = tls_context_for_localhost(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)  # the client trusts the made-up CA only
    from tests.smtp_server import free_port

    mailbox = Mailbox(host="127.0.0.1", port=free_port())
    controller = start(mailbox, tls_context=context, require_starttls=True)
    try:
        use_server(settings, mailbox, security="starttls")
        with committed():
            ask_for_reset(Client(), owner.email)
    finally:
        controller.stop()
    assert mailbox.starttls_used == [True]
    assert link_in(mailbox.only(owner.email), "/accounts/password-reset/")


def test_starttls_never_falls_back_to_a_plain_connection(smtp, settings, owner, committed):
    settings.EMAIL_USE_TLS = True  # the test server offers no STARTTLS
    with committed():
        ask_for_reset(Client(), owner.email)
    assert smtp.messages == []


def test_in_development_messages_are_files_in_var(tmp_path, settings, owner, committed):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    with committed():
        ask_for_reset(Client(), owner.email)
    [written] = list((tmp_path / "mail").iterdir())
    assert "/accounts/password-reset/" in written.read_text()
    assert django_mail.outbox == []
