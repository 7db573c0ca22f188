"""Publish the keys that are due now, in this process (operations and troubleshooting)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from authority.keys.models import PublicationRun
from authority.keys.services.publication import (
    PublicationAlreadyRunning,
    request_publication,
    run_publication,
)


class Command(BaseCommand):
    help = "Run one publication now, without a Celery worker, and report what was published."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
        except PublicationAlreadyRunning as running:
            raise CommandError(
                f"Publication run {running.run.pk} is already in progress."
            ) from None
        try:
            run = run_publication(run_id=run.pk, worker="manage.py")
        except Exception as error:
            raise CommandError(f"Publication run {run.pk} failed: {error}") from error
        if run.status != PublicationRun.Status.SUCCEEDED:
            raise CommandError(
                f"Publication run {run.pk}: {run.get_status_display()} {run.message}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Publication run {run.pk}: {run.files_published} file(s), "
                f"{run.keys_selected} keys, {run.padding_keys} padding keys."
            )
        )
