"""Checking a published batch: its stored file is the one published, and its signature holds."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from authority.formats.gaen.export import ExportFormatError
from authority.formats.gaen.signing import verify_export_zip
from authority.keys.models import Batch
from authority.keys.selectors import public_keys_by_version
from authority.keys.services.batch_files import batch_storage


@dataclass(frozen=True)
class BatchCheck:
    """The outcome of re-reading a stored batch file."""

    found: bool
    digest_matches: bool = False
    signature_valid: bool = False
    verified_versions: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.found and self.digest_matches and self.signature_valid


def verify_batch(*, batch: Batch) -> BatchCheck:
    """Re-read the stored file: same SHA-256 as recorded, and signatures valid with our keys."""
    storage = batch_storage()
    if not batch.file_name or not storage.exists(batch.file_name):
        return BatchCheck(found=False)
    with storage.open(batch.file_name, "rb") as stored:
        content = stored.read()
    digest_matches = hashlib.sha256(content).hexdigest() == batch.sha256
    try:
        verification = verify_export_zip(content, public_keys_by_version())
    except ExportFormatError as error:
        return BatchCheck(found=True, digest_matches=digest_matches, problems=(str(error),))
    verified = tuple(
        check.signature.signature_info.verification_key_version
        for check in verification.checks
        if check.outcome == "valid"
    )
    return BatchCheck(
        found=True,
        digest_matches=digest_matches,
        signature_valid=verification.is_valid,
        verified_versions=verified,
        problems=verification.problems,
    )
