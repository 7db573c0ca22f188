"""The second factor in the admin: in Italian, read-only, never a secret, resets audited."""

from __future__ import annotations

import html
from base64 import b32encode

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from authority.accounts.models import BackupCodeDevice, TOTPDevice, backup_code_digests
from authority.accounts.services import sign_in
from authority.audit.models import Action, AuditEntry

pytestmark = pytest.mark.django_db

AUTHENTICATORS = "/admin/accounts/totpdevice/"
BACKUP_CODES = "/admin/accounts/backupcodedevice/"


@pytest.fixture
def italian_admin(administrator, signed_in):
    client = signed_in(administrator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    return client


@pytest.fixture
def enrolled(operator):
    """The operator as after enrolment: an authenticator app and ten backup codes (in clear
    here, as the person saw them once)."""
    device = TOTPDevice.objects.create(user=operator, name="Authenticator app", confirmed=True)
    codes = sign_in.replace_backup_codes(user=operator)
    return device, codes


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def secrets_of(device: TOTPDevice, codes: list[str]) -> list[str]:
    """Every form in which a secret could leak onto a page."""
    seed = device.bin_key
    return [
        seed.hex(),
        b32encode(seed).decode(),
        "otpauth://",
        bytes(device.encrypted_key).hex(),
        *codes,
        *(backup_code_digests(code)[0] for code in codes),
    ]


def test_the_admin_index_names_the_second_factor_in_italian(italian_admin, enrolled):
    page = text_of(italian_admin.get("/admin/"))
    assert "App di autenticazione" in page
    assert "Codici di riserva" in page
    assert "Blocco degli accessi" in page  # django-axes' app, nameless in Italian otherwise
    # django-otp's own devices (seeds and codes in clear) and the unused groups are not offered.
    for gone in ("/admin/otp_totp/", "/admin/otp_static/", "/admin/auth/group/", "Axes"):
        assert gone not in page
    assert italian_admin.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert italian_admin.get("/admin/otp_static/staticdevice/").status_code == 404
    assert italian_admin.get("/admin/auth/group/").status_code == 404
    assert Group.objects.count() == 0


def test_the_authenticator_list_is_in_italian_and_shows_no_key(italian_admin, enrolled, operator):
    device, codes = enrolled
    response = italian_admin.get(AUTHENTICATORS)
    assert response.status_code == 200
    page = text_of(response)
    for heading in (
        "Persona",
        "Regione",
        "Stato",
        "Data di configurazione",
        "Ultimo utilizzo",
        "Codici errati consecutivi",
    ):
        assert f">{heading}<" in page
    assert "operator-lazio</a> (Operator-Lazio)" in page
    assert ">Configurata<" in page
    assert "Per stato" in page and "In attesa del primo codice" in page
    assert "Per regione" in page and "Per ruolo" in page
    assert (
        "Reimposta il secondo fattore delle persone selezionate "
        "(nuova configurazione al prossimo accesso)" in page
    )
    assert "Nome utente, nome o cognome." in page
    # Read-only: no way to add one, nor to delete one without the audited reset.
    assert f"{AUTHENTICATORS}add/" not in page
    assert "delete_selected" not in page
    for secret in secrets_of(device, codes):
        assert secret not in page
    for english in ("Select authenticator app", "confirmed", "throttling", "Authenticator app ("):
        assert english not in page


def test_an_authenticator_page_shows_its_state_and_no_key(italian_admin, enrolled):
    device, codes = enrolled
    response = italian_admin.get(f"{AUTHENTICATORS}{device.pk}/change/")
    assert response.status_code == 200
    page = text_of(response)
    assert "app di autenticazione di operator-lazio" in page
    for label in ("Persona:", "Stato:", "Codici errati consecutivi:", "Codici rifiutati fino a:"):
        assert label in page
    assert "None" not in page
    assert 'name="_save"' not in page  # nothing to save
    for secret in secrets_of(device, codes):
        assert secret not in page


def test_the_backup_codes_list_counts_codes_and_shows_none(italian_admin, enrolled, operator):
    device, codes = enrolled
    for page_url in (BACKUP_CODES, f"{BACKUP_CODES}{BackupCodeDevice.objects.get().pk}/change/"):
        response = italian_admin.get(page_url)
        assert response.status_code == 200
        page = text_of(response)
        assert "Codici rimasti" in page or "codici rimasti" in page.lower()
        assert ">10<" in page
        for secret in secrets_of(device, codes):
            assert secret not in page
        assert "Backup codes (" not in page


def test_second_factor_devices_cannot_be_added_changed_or_deleted_in_the_admin(
    italian_admin, enrolled
):
    device, _codes = enrolled
    assert italian_admin.get(f"{AUTHENTICATORS}add/").status_code == 403
    assert italian_admin.get(f"{AUTHENTICATORS}{device.pk}/delete/").status_code == 403
    response = italian_admin.post(f"{AUTHENTICATORS}{device.pk}/change/", {"confirmed": ""})
    assert response.status_code == 403
    italian_admin.post(
        AUTHENTICATORS, {"action": "delete_selected", "_selected_action": [device.pk]}
    )
    device.refresh_from_db()
    assert device.confirmed


def test_resetting_from_the_device_list_is_audited(
    italian_admin, administrator, enrolled, operator, supervisor
):
    TOTPDevice.objects.create(user=supervisor, name="Authenticator app", confirmed=True)
    own = TOTPDevice.objects.get(user=administrator)  # the one signed_in enrolled
    response = italian_admin.post(
        AUTHENTICATORS,
        {
            "action": "reset_second_factor",
            "_selected_action": list(TOTPDevice.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    page = text_of(response)
    assert "Secondo fattore reimpostato per 2 persone" in page
    assert "Il tuo secondo fattore non si reimposta da qui" in page
    # The operator's and the supervisor's authenticators and backup codes are gone; the
    # administrator's own is kept.
    assert list(TOTPDevice.objects.all()) == [own]
    assert not BackupCodeDevice.objects.filter(user=operator).exists()
    entries = AuditEntry.objects.filter(action=Action.SECOND_FACTOR_RESET)
    assert sorted(entries.values_list("target", flat=True)) == [
        "operator-lazio",
        "supervisor-lazio",
    ]
    assert {entry.actor for entry in entries} == {administrator}


def test_resetting_from_the_backup_codes_list_is_audited(italian_admin, administrator, enrolled):
    response = italian_admin.post(
        BACKUP_CODES,
        {
            "action": "reset_second_factor",
            "_selected_action": [BackupCodeDevice.objects.get().pk],
        },
        follow=True,
    )
    assert "Secondo fattore reimpostato per 1 persona" in text_of(response)
    assert not TOTPDevice.objects.exclude(user=administrator).exists()
    assert not BackupCodeDevice.objects.exists()
    entry = AuditEntry.objects.get(action=Action.SECOND_FACTOR_RESET)
    assert (entry.actor, entry.target) == (administrator, "operator-lazio")


def test_the_people_admin_offers_its_reset_in_italian(italian_admin, enrolled):
    page = text_of(italian_admin.get("/admin/accounts/user/"))
    assert "Reimposta il secondo fattore (nuova configurazione al prossimo accesso)" in page
