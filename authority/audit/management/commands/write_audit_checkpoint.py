"""Take a signed checkpoint of the audit chain's head now (the scheduler does so every
AUDIT_CHECKPOINT_MINUTES), e.g. before maintenance of the database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from authority.audit.checkpoints import CheckpointRefused, write_checkpoint


class Command(BaseCommand):
    help = "Write a signed checkpoint of the audit chain's head to the checkpoint storage."

    def handle(self, *args: object, **options: object) -> None:
        try:
            checkpoint = write_checkpoint()
        except CheckpointRefused as exc:
            raise CommandError(
                f"No checkpoint taken: {exc.describe()}. Run manage.py verify_audit_chain "
                '(docs/audit-trail.md, "What to do on a finding").'
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint {checkpoint.name}: entry #{checkpoint.position}, "
                f"link {checkpoint.link[:16]}..."
            )
        )
