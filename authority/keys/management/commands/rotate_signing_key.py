"""Create the next version of the export signing key (the first one too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from authority.keys.services.signing_keys import SigningKeyError, rotate_signing_key


class Command(BaseCommand):
    help = (
        "Create a new signing key version (v1, v2, ...). Previous keys keep signing until "
        "retired (--retire-previous retires them now). Prints the public key, never the private one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--key-id", help="verification key id (default: settings.SIGNING_KEY_ID)"
        )
        parser.add_argument(
            "--pem-file",
            help="use the P-256 private key in this PEM file, kept outside the database",
        )
        parser.add_argument(
            "--retire-previous", action="store_true", help="stop signing with older keys"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            key = rotate_signing_key(
                actor=None,
                key_id=options["key_id"],
                pem_file=options["pem_file"],
                retire_previous=options["retire_previous"],
                reason="manage.py rotate_signing_key",
            )
        except SigningKeyError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Created signing key {key.key_id} {key.version}."))
        self.stdout.write("Register this public key with Apple and Google:")
        self.stdout.write(key.public_key_pem, ending="")
