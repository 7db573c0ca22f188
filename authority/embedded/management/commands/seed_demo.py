"""Demo accounts, a signing key, statistics and keys for the embedded run; refuses to touch a
production database."""

from __future__ import annotations

import os
import random
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from authority.accounts.models import Region, Role, User
from authority.keys.selectors import active_signing_keys
from authority.keys.services.signing_keys import rotate_signing_key
from authority.keys.services.storing import UploadedKey, store_uploaded_keys

DEMO_PASSWORD = "demo-password-not-for-production"
DEMO_ACCOUNTS = [
    ("admin", "Ada", "Amministratrice", Role.ADMINISTRATOR, None),
    ("supervisor-lazio", "Sara", "Supervisori", Role.SUPERVISOR, "Lazio"),
    ("operator-lazio", "Oscar", "Operatori", Role.OPERATOR, "Lazio"),
    ("operator-lombardia", "Olga", "Operatrice", Role.OPERATOR, "Lombardia"),
]


class Command(BaseCommand):
    help = "Create the demo accounts (first run only; development mode only)."

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded in production mode.")
        if User.objects.exists():
            return
        for username, first, last, role, region_name in DEMO_ACCOUNTS:
            region = Region.objects.get(name=region_name) if region_name else None
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                role=role,
                region=region,
                # "Forgotten password?" and lockout notices work in the demo (files in var/mail/).
                email=f"{username}@example.org",
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(f"Created {len(DEMO_ACCOUNTS)} demo accounts.")
        if not active_signing_keys():
            rotate_signing_key(actor=None, reason="demo key for the embedded run")
            self.stdout.write(
                "Created a demo signing key (never register it with Apple or Google)."
            )
        # Statistics to look at on the first run (authority/dashboard).
        call_command("seed_demo_history", stdout=self.stdout)
        call_command("seed_demo_app_settings", stdout=self.stdout)
        stored = self.seed_keys_to_publish()
        self.stdout.write(f'Stored {stored} demo keys of past days, ready for "Publish now".')

    def seed_keys_to_publish(self, uploads: int = 60) -> int:
        """Random keys of the last days, as uploads would have left them: the demo can publish."""
        today = int(timezone.now().timestamp()) // 600 // 144 * 144
        regions = list(Region.objects.all())
        stored = 0
        for _ in range(uploads):
            days = random.randint(4, 12)
            keys = [
                UploadedKey(os.urandom(16), today - 144 * day, 144) for day in range(1, days + 1)
            ]
            stored += store_uploaded_keys(
                keys=keys,
                region_id=random.choice(regions).pk,
                onset_date=timezone.localdate() - timedelta(days=random.randint(0, 5)),
                uploaded_on=timezone.localdate(),
            )
        return stored
