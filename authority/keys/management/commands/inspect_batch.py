"""Describe a GAEN export zip; with a public key, fail unless a signature verifies with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from authority.formats.gaen.export import ExportFormatError, decode_signature_list, read_export_zip
from authority.formats.gaen.inspect import describe_export
from authority.formats.gaen.signing import load_public_key_pem, verify_export


class Command(BaseCommand):
    help = "Print what a batch file holds; exit non-zero if --public-key does not verify it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the export zip (as downloaded from /v1/keys/N)")
        parser.add_argument("--public-key", dest="public_key", help="PEM file of the public key")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            content = Path(options["file"]).read_bytes()
            pem = Path(options["public_key"]).read_bytes() if options["public_key"] else None
        except OSError as error:
            raise CommandError(f"{error.filename}: {error.strerror}") from None
        try:
            self.stdout.write(describe_export(content, pem), ending="")
            if pem is not None and not _verifies(content, pem):
                raise CommandError("No signature verifies with the given public key.")
        except (ExportFormatError, ValueError) as error:
            raise CommandError(str(error)) from None


def _verifies(content: bytes, pem: bytes) -> bool:
    public_key = load_public_key_pem(pem)
    export_bin, export_sig = read_export_zip(content)
    return any(
        verify_export(export_bin, signature.signature, public_key)
        for signature in decode_signature_list(export_sig)
    )
