"""Upload to and download from the European gateway now, in this process (operations and troubleshooting)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from authority.federation import callback, configuration, download, upload
from authority.federation.models import FederationRun


class Command(BaseCommand):
    help = "Run one federation upload and/or download now, without a Celery worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--upload", action="store_true", help="only the upload")
        parser.add_argument("--download", action="store_true", help="only the download")
        parser.add_argument(
            "--check", action="store_true", help="only check the configuration and certificates"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not configuration.enabled():
            raise CommandError("Federation is off: FEDERATION_GATEWAY_URL is not set.")
        try:
            federation = configuration.load()
        except configuration.FederationMisconfigured as error:
            raise CommandError(f"Federation configuration: {error}") from error
        for info in configuration.certificates(federation):
            warning = " (expires soon)" if info.expires_soon else ""
            self.stdout.write(
                f"{info.purpose}: {info.subject}, valid until {info.not_after:%Y-%m-%d}{warning}"
            )
        if options["check"]:
            if settings.FEDERATION_CALLBACK_URL:
                self._callback_certificate(settings.FEDERATION_CALLBACK_URL, federation.timeout)
            return
        both = not options["upload"] and not options["download"]
        runs = []
        if options["upload"] or both:
            runs.append(upload.run_upload(trigger=FederationRun.Trigger.COMMAND))
        if options["download"] or both:
            runs.append(download.run_download(trigger=FederationRun.Trigger.COMMAND))
        failed = False
        for run in runs:
            if run is None:
                continue
            line = (
                f"{run.kind.capitalize()} run {run.pk}: {run.status}; "
                f"{run.batches} batch(es), {run.keys_shared} keys shared, {run.keys_received} received, "
                f"{run.keys_refused} refused, {run.keys_invalid} not valid for phones. {run.message}"
            )
            if run.status == FederationRun.Status.SUCCEEDED:
                self.stdout.write(self.style.SUCCESS(line))
            else:
                failed = True
                self.stderr.write(line)
        if failed:
            raise CommandError("A federation run failed.")

    def _callback_certificate(self, url: str, timeout: float) -> None:
        """The thumbprint the gateway's operators must register for notifications to arrive."""
        problem = callback.callback_url_problem(url)
        if problem:
            self.stderr.write(f"callback: {url} cannot be registered: {problem}")
            return
        try:
            served = callback.callback_server_certificate(url, timeout=timeout)
        except OSError as error:
            self.stderr.write(f"callback: the certificate served for {url} cannot be read: {error}")
            return
        self.stdout.write(
            f"callback: {served.host} serves {served.subject}, SHA-256 {served.thumbprint}. "
            "The gateway's operators must register this thumbprint as an AUTHENTICATION "
            "certificate, or no notification reaches us."
        )
        if served.thumbprint.startswith("00"):
            self.stderr.write(
                "callback: this SHA-256 begins with 00, which the gateway cannot match: "
                "reissue the server certificate"
            )
        if not served.names_host:
            self.stderr.write(
                f"callback: the certificate does not name {served.host} among its DNS names, "
                "which the gateway requires"
            )
