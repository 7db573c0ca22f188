"""Move the stored signing keys to a new key-encryption key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from authority.keys.signing import SigningKeyError, reencrypt_signing_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every private signing key stored in the database under the current "
        "SIGNING_KEY_ENCRYPTION_KEY. Set the new key, put the old one in "
        "SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS, run this once, then remove the fallback."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            moved = reencrypt_signing_keys()
        except SigningKeyError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{moved} signing key(s) re-encrypted under the current SIGNING_KEY_ENCRYPTION_KEY."
            if moved
            else "Every stored signing key is already encrypted under the current key."
        )
