"""`dev.py run`: a development server that was stopped (a laptop shut overnight) wrote no audit
checkpoints meanwhile; that gap is recorded in the trail as a pause, in the open, instead of
showing the audit page's tampering alarm at the next start. Production refuses it: there a gap
is explained by a key holder (acknowledge_audit_checkpoint_gap, docs/audit-trail.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from authority.audit.checkpoints import CheckpointRefused, read_checkpoints
from authority.audit.gaps import NoGap, acknowledge_gap


class Command(BaseCommand):
    help = "Development only: record that the development server was stopped since its last checkpoint."

    def handle(self, *args: object, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Development only: in production a key holder explains a gap.")
        checkpoints, _unreadable = read_checkpoints()
        if not checkpoints:
            return  # a first run: nothing was due yet
        try:
            acknowledge_gap(
                reason="The development server (dev.py run) was stopped.",
                acknowledged_by="dev.py run",
            )
        except NoGap:
            return
        except CheckpointRefused as exc:
            self.stderr.write(f"No checkpoint after the pause: {exc.describe()}")
            return
        self.stdout.write("The pause since the last audit checkpoint is recorded in the trail.")
