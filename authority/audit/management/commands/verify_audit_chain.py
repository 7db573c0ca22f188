"""Check that nobody edited, removed, inserted or rolled back audit entries."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from authority.audit.verification import TrailReport, verify_trail


class Command(BaseCommand):
    help = (
        "Verify the audit trail: every entry's link under the audit keys, the chain's head, and "
        "every signed checkpoint outside the database. Exits with status 1 on any finding."
    )

    def handle(self, *args: object, **options: object) -> None:
        report = verify_trail()
        self.stdout.write(describe_extent(report))
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning.describe()}"))
        if not report.intact:
            for finding in report.findings:
                self.stderr.write(self.style.ERROR(finding.describe()))
            if report.more_findings:
                self.stderr.write(self.style.ERROR(f"... and {report.more_findings} more."))
            count = len(report.findings) + report.more_findings
            raise CommandError(
                f"Audit trail NOT intact: {count} finding(s). See docs/audit-trail.md, "
                '"What to do on a finding".'
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact: {report.entries} entries verified, "
                f"{report.checkpoints} checkpoints agree."
            )
        )


def describe_extent(report: TrailReport) -> str:
    """What was checked: how much of the trail is keyed, and the newest checkpoint."""
    lines = [f"Entries: {report.entries}."]
    if report.legacy_entries and report.keyed_from:
        lines.append(
            f"Entries #1 to #{report.keyed_from - 1} were written before the chain was keyed "
            f"(SHA-256 links, protected by the keyed entries after them); "
            f"keyed from entry #{report.keyed_from} on."
        )
    elif report.legacy_entries:
        lines.append("No entry is keyed yet: the next one written will be.")
    if report.newest_checkpoint_at is not None:
        taken = timezone.localtime(report.newest_checkpoint_at)
        lines.append(
            f"Checkpoints: {report.checkpoints}, the newest of {taken:%Y-%m-%d %H:%M:%S %Z} "
            f"at entry #{report.newest_checkpoint_position}."
        )
    else:
        lines.append("Checkpoints: none yet.")
    return "\n".join(lines)
