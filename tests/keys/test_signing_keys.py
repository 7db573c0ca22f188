"""Signing keys: versions, rotation overlap, encryption at rest, PEM files, audit."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.core.management.base import CommandError

from authority.audit.models import Action, AuditEntry
from authority.formats.gaen.signing import generate_private_key, private_key_pem, public_key_pem
from authority.keys.models import SigningKey
from authority.keys.services import signing_keys
from tests.settings.test_settings import run_manage

pytestmark = pytest.mark.django_db


def test_the_first_key_is_v1_with_the_country_code(administrator):
    key = signing_keys.rotate_signing_key(actor=administrator)
    assert (key.key_id, key.version, key.algorithm) == ("222", "v1", "1.2.840.10045.4.3.2")
    assert AuditEntry.objects.filter(
        action=Action.SIGNING_KEY_CREATED, actor=administrator
    ).exists()


def test_the_key_id_is_configurable(settings):
    settings.SIGNING_KEY_ID = "999"
    assert signing_keys.rotate_signing_key(actor=None).key_id == "999"


def test_rotation_adds_a_version_that_signs_first_while_the_old_one_still_signs(administrator):
    signing_keys.rotate_signing_key(actor=administrator)
    signing_keys.rotate_signing_key(actor=administrator)
    signers = signing_keys.signers_for_export()
    assert [info.verification_key_version for info, _key in signers] == ["v2", "v1"]
    assert AuditEntry.objects.filter(action=Action.SIGNING_KEY_ROTATED).count() == 1


def test_at_most_ten_keys_sign(administrator):
    for _ in range(12):
        signing_keys.rotate_signing_key(actor=administrator)
    versions = [info.verification_key_version for info, _key in signing_keys.signers_for_export()]
    assert versions == [f"v{number}" for number in range(12, 2, -1)]


def test_retire_previous_leaves_only_the_new_key(administrator):
    signing_keys.rotate_signing_key(actor=administrator)
    signing_keys.rotate_signing_key(actor=administrator, retire_previous=True)
    assert [info.verification_key_version for info, _key in signing_keys.signers_for_export()] == [
        "v2"
    ]
    assert AuditEntry.objects.filter(action=Action.SIGNING_KEY_RETIRED, target="222 v1").exists()


def test_the_last_active_key_cannot_be_retired(administrator):
    key = signing_keys.rotate_signing_key(actor=administrator)
    with pytest.raises(signing_keys.SigningKeyError, match="only active signing key"):
        signing_keys.retire_signing_key(actor=administrator, signing_key=key)


def test_the_private_key_is_stored_encrypted(administrator):
    key = signing_keys.rotate_signing_key(actor=administrator)
    private_key = signing_keys.private_key_of(key)
    stored = bytes(SigningKey.objects.get(pk=key.pk).encrypted_private_key)
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    secret = private_key.private_numbers().private_value.to_bytes(32, "big")
    assert der not in stored and secret not in stored and b"PRIVATE KEY" not in stored
    assert public_key_pem(private_key).decode() == key.public_key_pem


def test_another_encryption_key_cannot_decrypt_it(administrator, settings):
    key = signing_keys.rotate_signing_key(actor=administrator)
    settings.SIGNING_KEY_ENCRYPTION_KEY = "another-key-encryption-key-0123456789abcdef"
    with pytest.raises(signing_keys.SigningKeyError, match="SIGNING_KEY_ENCRYPTION_KEY"):
        signing_keys.private_key_of(key)


def test_a_ciphertext_moved_to_another_version_does_not_decrypt(administrator):
    first = signing_keys.rotate_signing_key(actor=administrator)
    second = signing_keys.rotate_signing_key(actor=administrator)
    SigningKey.objects.filter(pk=second.pk).update(
        encrypted_private_key=first.encrypted_private_key
    )
    with pytest.raises(signing_keys.SigningKeyError):
        signing_keys.private_key_of(SigningKey.objects.get(pk=second.pk))


def test_a_key_can_live_in_a_pem_file_outside_the_database(administrator, tmp_path):
    private_key = generate_private_key()
    pem_file = tmp_path / "signing.pem"
    pem_file.write_bytes(private_key_pem(private_key))
    key = signing_keys.rotate_signing_key(actor=administrator, pem_file=str(pem_file))
    assert key.encrypted_private_key is None
    assert key.private_key_file == str(pem_file)
    assert key.public_key_pem == public_key_pem(private_key).decode()
    assert signing_keys.private_key_of(key).private_numbers() == private_key.private_numbers()


def test_the_rotate_command_registers_a_pem_file_that_then_signs(tmp_path, capsys):
    private_key = generate_private_key()
    pem_file = tmp_path / "signing.pem"
    pem_file.write_bytes(private_key_pem(private_key))
    call_command("rotate_signing_key", "--pem-file", str(pem_file))
    assert public_key_pem(private_key).decode() in capsys.readouterr().out
    [(info, loaded)] = signing_keys.signers_for_export()
    assert (info.verification_key_id, info.verification_key_version) == ("222", "v1")
    assert loaded.private_numbers() == private_key.private_numbers()
    assert SigningKey.objects.get().encrypted_private_key is None


def test_a_missing_pem_file_is_a_clear_error(administrator, tmp_path):
    with pytest.raises(signing_keys.SigningKeyError, match="Cannot read"):
        signing_keys.rotate_signing_key(actor=administrator, pem_file=str(tmp_path / "missing.pem"))


def test_production_refuses_to_invent_a_signing_key(settings):
    settings.PRODUCTION = True
    with pytest.raises(signing_keys.SigningKeyError, match="No signing key"):
        signing_keys.signers_for_export()
    assert not SigningKey.objects.exists()


def test_development_does_not_invent_a_signing_key_either():
    with pytest.raises(signing_keys.SigningKeyError, match="No signing key"):
        signing_keys.signers_for_export()
    assert not SigningKey.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.SIGNING_KEY_CREATED).exists()


def test_a_key_created_by_the_system_is_audited_as_such():
    signing_keys.rotate_signing_key(actor=None)
    entry = AuditEntry.objects.get(action=Action.SIGNING_KEY_CREATED)
    assert entry.actor is None and entry.actor_username == "system"


def test_retired_keys_do_not_sign(administrator):
    first = signing_keys.rotate_signing_key(actor=administrator)
    signing_keys.rotate_signing_key(actor=administrator)
    signing_keys.retire_signing_key(actor=administrator, signing_key=first)
    versions = [info.verification_key_version for info, _key in signing_keys.signers_for_export()]
    assert versions == ["v2"]


def test_rotate_command_prints_the_public_key_only(capsys):
    call_command("rotate_signing_key")
    call_command("rotate_signing_key", "--retire-previous")
    output = capsys.readouterr().out
    assert "Created signing key 222 v2." in output
    assert "BEGIN PUBLIC KEY" in output and "PRIVATE" not in output
    assert list(SigningKey.objects.filter(retired_at=None).values_list("version", flat=True)) == [
        "v2"
    ]


def test_rotate_command_reports_a_bad_pem_file(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(CommandError, match="not a P-256 private key"):
        call_command("rotate_signing_key", "--pem-file", str(bad))


def test_the_setting_that_registered_a_key_implicitly_stops_start_up_with_what_to_do(tmp_path):
    result = run_manage("check", SIGNING_KEY_PEM_FILE=str(tmp_path / "signing.pem"))
    assert result.returncode != 0
    assert "SIGNING_KEY_PEM_FILE is no longer read" in result.stderr
    assert "rotate_signing_key --pem-file" in result.stderr
