"""Print the current authenticator code for a secret: lets a demo run without a phone."""

from __future__ import annotations

from base64 import b32decode
from binascii import Error as Base32Error

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp


class Command(BaseCommand):
    help = "Print the current 6-digit code for a base32 secret (development mode only)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "secret", nargs="+", help="the secret shown on the enrolment page (spaces allowed)"
        )

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("Not available in production mode.")
        secret = "".join(options["secret"]).replace(" ", "").upper()  # type: ignore[arg-type]
        try:
            key = b32decode(secret)
        except Base32Error as exc:
            raise CommandError("That is not a base32 secret.") from exc
        self.stdout.write(f"{totp(key):06d}")
