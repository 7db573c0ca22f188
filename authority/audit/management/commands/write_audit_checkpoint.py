"""Take a signed checkpoint of the audit chain's head now (the scheduler does so every
AUDIT_CHECKPOINT_MINUTES), e.g. before maintenance of the database."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from authority.audit.checkpoints import write_checkpoint


class Command(BaseCommand):
    help = "Write a signed checkpoint of the audit chain's head to the checkpoint storage."

    def handle(self, *args: object, **options: object) -> None:
        checkpoint = write_checkpoint()
        self.stdout.write(
            self.style.SUCCESS(
                f"Checkpoint {checkpoint.name}: entry #{checkpoint.position}, "
                f"link {checkpoint.link[:16]}..."
            )
        )
