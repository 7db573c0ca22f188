"""Check that nobody edited, removed or reordered audit entries."""

from django.core.management.base import BaseCommand, CommandError

from authority.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report the first broken entry."

    def handle(self, *args: object, **options: object) -> None:
        report = verify_chain()
        if not report.intact:
            where = (
                f"entry {report.first_broken_id}" if report.first_broken_id else "the chain's end"
            )
            raise CommandError(
                f"Audit chain broken at {where}: {report.problem} ({report.checked} entries intact before it)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.checked} entries verified.")
        )
