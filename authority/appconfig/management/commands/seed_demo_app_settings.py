"""Demo history of the apps' settings (embedded run only; called by seed_demo)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from authority.appconfig.demo import seed_demo_settings_history


class Command(BaseCommand):
    help = "Add one earlier change to the apps' settings history (development mode only)."

    def handle(self, *args: object, **options: object) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded in production mode.")
        if seed_demo_settings_history():
            self.stdout.write("Added a demo change to the Android app settings (version 2).")
