"""Authenticator seeds at rest: sealed like the signing keys, nowhere in clear in the database,
moved by the migration and by the key-encryption key's rotation, still shown once at enrolment."""

from __future__ import annotations

import re
from base64 import b32encode, b64encode
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice as ClearTOTPDevice

from authority.accounts.models import TOTPDevice, User
from authority.envelope import EnvelopeError
from authority.keys.models import SigningKey
from authority.keys.services import signing_keys
from tests.conftest import PASSWORD, current_code, enroll_authenticator

OLD = "the-old-key-encryption-key-0123456789abcdef"
NEW = "the-new-key-encryption-key-0123456789abcdef"


def log_in(client: Client, user: User) -> None:
    client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})


def secret_on_the_enrolment_page(client: Client) -> str:
    page = client.get(reverse("accounts:enroll")).content.decode()
    shown = re.search(r'data-testid="totp-secret">(.*?)</p>', page, re.S)
    assert shown is not None
    return re.sub(r"<[^>]+>|\s", "", shown.group(1))


def forms_of(seed: bytes) -> list[str]:
    """How a seed could be written down in a dump: hex, base32 (as the page shows it), base64."""
    base32 = b32encode(seed).decode()
    return [seed.hex(), seed.hex().upper(), base32, base32.rstrip("="), b64encode(seed).decode()]


def database_dump() -> tuple[str, list[bytes]]:
    """Every row of every table (SQL, so unmanaged tables too): the values as text, and the
    binary values as stored."""
    texts, blobs = [], []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        blobs.append(bytes(value))
                    else:
                        texts.append(str(value))
    return "\n".join(texts), blobs


def found_in_the_database(seed: bytes) -> list[str]:
    """Where the seed shows in a dump of the database (SQL, and Django's dumpdata)."""
    text, blobs = database_dump()
    dumpdata = StringIO()
    call_command("dumpdata", stdout=dumpdata)
    found = [form for form in forms_of(seed) if form in text or form in dumpdata.getvalue()]
    found += [f"{len(blob)}-byte value" for blob in blobs if seed in blob]
    return found


@pytest.mark.django_db
def test_no_seed_is_in_a_dump_of_the_database_while_login_works(client, operator, administrator):
    log_in(client, operator)
    secret = secret_on_the_enrolment_page(client)
    pending_seed = TOTPDevice.objects.get(user=operator, confirmed=False).bin_key
    assert b32encode(pending_seed).decode() == secret
    assert found_in_the_database(pending_seed) == []  # shown on the page, not stored in clear

    response = client.post(reverse("accounts:enroll"), {"token": current_code_for(secret)})
    assert "backup" in response.content.decode().lower()
    assert client.get("/").status_code == 200  # signed in with both factors
    enrolled = TOTPDevice.objects.get(user=operator, confirmed=True)
    other = enroll_authenticator(administrator)

    for seed in (enrolled.bin_key, other.bin_key):
        assert found_in_the_database(seed) == []
    assert not ClearTOTPDevice.objects.exists()


@pytest.mark.django_db
def test_the_dump_would_show_a_seed_kept_in_clear(operator):
    """The check above can fail: django-otp's own device, seed in clear, is found."""
    clear = ClearTOTPDevice.objects.create(user=operator, name="clear", confirmed=True)
    assert found_in_the_database(clear.bin_key) != []


def current_code_for(secret: str) -> str:
    """What the app shows for the secret on the page, by the development command."""
    out = StringIO()
    call_command("totp_code", *[secret[i : i + 4] for i in range(0, len(secret), 4)], stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_the_totp_code_command_gives_the_code_the_sealed_seed_accepts(operator):
    device = enroll_authenticator(operator)
    code = current_code_for(b32encode(device.bin_key).decode())
    assert code == current_code(device)
    assert TOTPDevice.objects.get(pk=device.pk).verify_token(code)


@pytest.mark.django_db
def test_a_seed_copied_onto_another_users_device_does_not_open(operator, administrator):
    mine = enroll_authenticator(operator)
    theirs = enroll_authenticator(administrator)
    TOTPDevice.objects.filter(pk=theirs.pk).update(encrypted_key=mine.encrypted_key)
    with pytest.raises(EnvelopeError, match="SIGNING_KEY_ENCRYPTION_KEY"):
        TOTPDevice.objects.get(pk=theirs.pk).bin_key  # noqa: B018


@pytest.mark.django_db
def test_another_key_encryption_key_cannot_open_a_seed(operator, settings):
    device = enroll_authenticator(operator)
    settings.SIGNING_KEY_ENCRYPTION_KEY = NEW
    with pytest.raises(EnvelopeError, match="SIGNING_KEY_ENCRYPTION_KEY"):
        TOTPDevice.objects.get(pk=device.pk).bin_key  # noqa: B018


@pytest.mark.django_db
def test_a_rotated_key_encryption_key_keeps_logins_working_and_the_command_moves_the_seeds(
    settings, operator, administrator, capsys
):
    settings.SIGNING_KEY_ENCRYPTION_KEY = OLD
    device = enroll_authenticator(operator)
    key = signing_keys.rotate_signing_key(actor=administrator)
    settings.SIGNING_KEY_ENCRYPTION_KEY = NEW
    settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS = [OLD]
    # Meanwhile the fallback opens the seed: the code from the app is accepted.
    assert TOTPDevice.objects.get(pk=device.pk).verify_token(current_code(device))

    call_command("reencrypt_signing_keys")
    output = capsys.readouterr().out
    assert "1 signing key(s) re-encrypted" in output
    assert "1 authenticator seed(s) re-encrypted" in output
    settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS = []
    assert TOTPDevice.objects.get(pk=device.pk).bin_key == device.bin_key  # the new key alone
    assert signing_keys.private_key_of(SigningKey.objects.get(pk=key.pk))

    call_command("reencrypt_signing_keys")
    assert "Every authenticator seed is already encrypted" in capsys.readouterr().out


@pytest.mark.django_db
def test_without_the_old_key_the_command_fails_clearly_and_changes_nothing(
    settings, operator, administrator
):
    settings.SIGNING_KEY_ENCRYPTION_KEY = OLD
    device = enroll_authenticator(operator)
    settings.SIGNING_KEY_ENCRYPTION_KEY = NEW
    key = signing_keys.rotate_signing_key(actor=administrator)
    before = (stored_seed(device), stored_private_key(key))
    # A third key, with NEW as the only fallback: the signing key could move, the seed cannot.
    settings.SIGNING_KEY_ENCRYPTION_KEY = "a-third-key-encryption-key-0123456789abcdef"
    settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS = [NEW]
    with pytest.raises(CommandError, match=f"device {device.pk} cannot be decrypted"):
        call_command("reencrypt_signing_keys")
    assert (stored_seed(device), stored_private_key(key)) == before  # all or nothing


def stored_seed(device: TOTPDevice) -> bytes:
    return bytes(TOTPDevice.objects.get(pk=device.pk).encrypted_key)


def stored_private_key(key: SigningKey) -> bytes:
    return bytes(SigningKey.objects.get(pk=key.pk).encrypted_private_key or b"")


# ---------------------------------------------------------------------- the migration


def migrate_accounts_to(name: str):
    executor = MigrationExecutor(connection)
    executor.migrate([("accounts", name)])
    return executor.loader.project_state(
        [("accounts", name), ("otp_totp", "0003_add_timestamps")]
    ).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_seeds_and_reverses(administrator):
    seed = bytes(range(20))
    try:
        apps = migrate_accounts_to("0006_encrypted_totp_devices")
        clear = apps.get_model("otp_totp", "TOTPDevice").objects.create(
            user_id=administrator.pk, name="Authenticator app", confirmed=True, key=seed.hex()
        )

        migrate_accounts_to("0007_seal_existing_totp_seeds")
        [device] = TOTPDevice.objects.all()
        assert (device.user_id, device.name, device.confirmed) == (
            administrator.pk,
            "Authenticator app",
            True,
        )
        assert device.bin_key == seed
        assert device.created_at == clear.created_at
        assert device.verify_token(f"{totp(seed):06d}")  # the app's codes keep working
        assert not ClearTOTPDevice.objects.exists()
        # The whole database is read through today's models: with every later migration.
        migrate_accounts_to(latest_accounts_migration())
        assert found_in_the_database(seed) == []

        apps = migrate_accounts_to("0006_encrypted_totp_devices")
        [restored] = apps.get_model("otp_totp", "TOTPDevice").objects.all()
        assert (restored.key, restored.user_id, restored.confirmed) == (
            seed.hex(),
            administrator.pk,
            True,
        )
    finally:
        migrate_accounts_to(latest_accounts_migration())


def latest_accounts_migration() -> str:
    [(_app, name)] = MigrationExecutor(connection).loader.graph.leaf_nodes("accounts")
    return name


@pytest.mark.django_db
def test_a_login_during_the_re_encryption_does_not_write_back_the_old_seal(settings, operator):
    settings.SIGNING_KEY_ENCRYPTION_KEY = OLD
    enroll_authenticator(operator)
    settings.SIGNING_KEY_ENCRYPTION_KEY = NEW
    settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS = [OLD]
    logging_in = TOTPDevice.objects.get(user=operator)  # read before the command ...
    call_command("reencrypt_signing_keys", stdout=StringIO())
    assert logging_in.verify_token(current_code(logging_in))  # ... saved after it
    settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS = []
    assert TOTPDevice.objects.get(user=operator).bin_key == logging_in.bin_key


def test_no_code_uses_django_otps_clear_device():
    """Its table stays empty (migration 0007): code that made or read such devices would keep
    seeds in clear again, or look for devices where there are none."""
    root = Path(__file__).resolve().parents[2]
    allowed = {
        root / "authority/accounts/admin.py",  # unregisters its admin
        Path(__file__).resolve(),  # the control case above
    }
    users = [
        str(path.relative_to(root))
        for folder in ("authority", "tasks", "tests")
        for path in (root / folder).rglob("*.py")
        if "otp_totp.models import" in path.read_text() and path not in allowed
    ]
    assert users == []
