"""Record in the audit trail why checkpoints were not written for a while (docs/audit-trail.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from authority.audit.checkpoints import CheckpointRefused
from authority.audit.gaps import NoGap, acknowledge_gap


class Command(BaseCommand):
    help = (
        "Once a gap in the checkpoints is explained (the scheduler or the checkpoint storage was "
        "down): write a keyed entry saying why, so that the gap is no longer a finding."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--by", required=True, help="Who acknowledges (name or username).")
        parser.add_argument("--reason", required=True, help="Why no checkpoint was written.")
        parser.add_argument(
            "--after",
            help="The checkpoint the gap follows, as the finding names it (default: the newest, "
            "for a gap up to now).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        try:
            entry = acknowledge_gap(
                reason=options["reason"], acknowledged_by=options["by"], after=options["after"]
            )
        except NoGap as exc:
            raise CommandError(str(exc)) from exc
        except CheckpointRefused as exc:
            raise CommandError(
                "The gap is acknowledged in the trail, but no checkpoint could be taken: "
                f"{exc.describe()}"
            ) from exc
        details = entry.details
        self.stdout.write(
            self.style.SUCCESS(
                f"Recorded as entry #{entry.position}: no checkpoint after "
                f"{details['after_checkpoint'] or 'the start'} until {details['until']}."
            )
        )
