"""Move every secret sealed under the key-encryption key to a new one: the private signing
keys and the authenticator (TOTP) seeds."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authority.accounts.totp import reencrypt_totp_seeds
from authority.envelope import EnvelopeError
from authority.keys.services.signing_keys import SigningKeyError, reencrypt_signing_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret stored encrypted in the database (the private signing keys "
        "and the staff's authenticator seeds) under the current SIGNING_KEY_ENCRYPTION_KEY. "
        "Set the new key, put the old one in SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS, run this "
        "once, then remove the fallback. All or nothing: on an error nothing is changed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                keys = reencrypt_signing_keys()
                seeds = reencrypt_totp_seeds()
        except (SigningKeyError, EnvelopeError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{keys} signing key(s) re-encrypted under the current SIGNING_KEY_ENCRYPTION_KEY."
            if keys
            else "Every stored signing key is already encrypted under the current key."
        )
        self.stdout.write(
            f"{seeds} authenticator seed(s) re-encrypted under the current "
            "SIGNING_KEY_ENCRYPTION_KEY."
            if seeds
            else "Every authenticator seed is already encrypted under the current key."
        )
