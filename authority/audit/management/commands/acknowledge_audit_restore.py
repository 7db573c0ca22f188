"""Record in the audit trail that the database was restored from a backup (docs/audit-trail.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from authority.audit.restores import NothingToAcknowledge, acknowledge_restore


class Command(BaseCommand):
    help = (
        "After restoring the database from a backup: write a keyed entry naming the entries "
        "lost with it, so that the checkpoints that recorded them are no longer findings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--by", required=True, help="Who acknowledges (name or username).")
        parser.add_argument("--reason", required=True, help="Why the database was restored.")
        parser.add_argument(
            "--restored-length",
            type=int,
            help="Entries the backup held (default: what the trail holds now; give it when "
            "entries were written after the restore).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        try:
            entry = acknowledge_restore(
                reason=options["reason"],
                acknowledged_by=options["by"],
                restored_length=options["restored_length"],
            )
        except (NothingToAcknowledge, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        details = entry.details
        self.stdout.write(
            self.style.SUCCESS(
                f"Recorded as entry #{entry.position}: the trail was restored to "
                f"{details['restored_length']} entries; entries up to #{details['lost_through']} "
                f"({details['checkpoints_superseded']} checkpoints) were lost with the restore."
            )
        )
