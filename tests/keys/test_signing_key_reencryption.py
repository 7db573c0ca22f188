"""Changing the key-encryption key: the old one as a fallback, one command, then without it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from authority.audit.models import Action, AuditEntry
from authority.formats.gaen.signing import public_key_pem
from authority.keys.models import SigningKey
from authority.keys.services import signing_keys

pytestmark = pytest.mark.django_db

OLD = "the-old-key-encryption-key-0123456789abcdef"
NEW = "the-new-key-encryption-key-0123456789abcdef"


def stored(key: SigningKey) -> SigningKey:
    return SigningKey.objects.get(pk=key.pk)


def test_a_rotated_encryption_key_keeps_signing_and_the_command_moves_the_keys(
    settings, administrator, capsys
):
    settings.SIGNING_KEY_ENCRYPTION_KEY = OLD
    keys = [signing_keys.rotate_signing_key(actor=administrator) for _ in range(2)]
    settings.SIGNING_KEY_ENCRYPTION_KEY = NEW
    settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS = [OLD]
    # Meanwhile publication still signs: the fallback opens the keys.
    assert len(signing_keys.signers_for_export()) == 2

    call_command("reencrypt_signing_keys")
    assert "2 signing key(s) re-encrypted" in capsys.readouterr().out
    settings.SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS = []
    for key in keys:
        private_key = signing_keys.private_key_of(stored(key))  # the new key alone opens them
        assert public_key_pem(private_key).decode() == key.public_key_pem
    entry = AuditEntry.objects.get(action=Action.SIGNING_KEYS_REENCRYPTED)
    assert entry.details == {"signing_keys": [f"{k.key_id} {k.version}" for k in keys]}

    call_command("reencrypt_signing_keys")  # again: nothing to do, nothing audited
    assert "already encrypted under the current key" in capsys.readouterr().out
    assert AuditEntry.objects.filter(action=Action.SIGNING_KEYS_REENCRYPTED).count() == 1


def test_without_the_old_key_the_command_fails_clearly_and_changes_nothing(settings, administrator):
    settings.SIGNING_KEY_ENCRYPTION_KEY = OLD
    key = signing_keys.rotate_signing_key(actor=administrator)
    before = bytes(stored(key).encrypted_private_key)
    settings.SIGNING_KEY_ENCRYPTION_KEY = NEW
    with pytest.raises(CommandError, match="SIGNING_KEY_ENCRYPTION_KEY"):
        call_command("reencrypt_signing_keys")
    assert bytes(stored(key).encrypted_private_key) == before
