"""A human-readable report of a GAEN export zip, for operators checking a published batch."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from authority.formats.gaen import export_pb2
from authority.formats.gaen.export import (
    ECDSA_P256_SHA256_OID,
    EXPORT_BIN_HEADER,
    ExposureKey,
    decode_export_bin,
    decode_signature_list,
    read_export_zip,
)
from authority.formats.gaen.signing import (
    ExportVerification,
    PublicKey,
    SignatureOutcome,
    check_export_signatures,
    load_public_key_pem,
)

# Seconds in one rolling interval: rolling_start_interval_number counts 10-minute steps.
_INTERVAL_SECONDS = 600

_ALGORITHM_NAMES = {ECDSA_P256_SHA256_OID: "ECDSA P-256 with SHA-256"}

_STATUS = {
    SignatureOutcome.VALID: "verifies",
    # Expected for a signature made with another key (e.g. the previous one in a rotation).
    SignatureOutcome.INVALID: "does not verify with the given key",
    SignatureOutcome.UNSUPPORTED_ALGORITHM: "unsupported algorithm, not checked",
    SignatureOutcome.UNKNOWN_KEY: "not checked",
}


def describe_export(zip_bytes: bytes, public_key_pem: bytes | None = None) -> str:
    """Describe an export zip; with a public key, also say whether its signatures verify.

    Malformed input raises ExportFormatError (from the zip, export.bin or export.sig).
    """
    export_bin, export_sig = read_export_zip(zip_bytes)
    metadata, keys = decode_export_bin(export_bin)

    signatures = decode_signature_list(export_sig)

    # The operator gives one key and no id or version: try it on every signature. Without a
    # key the structural checks (signature listed in export.bin, same batch) still run.
    public_keys: dict[tuple[str, str], PublicKey] = {}
    if public_key_pem is not None:
        public_key = load_public_key_pem(public_key_pem)
        for signature in signatures:
            info = signature.signature_info
            public_keys[info.verification_key_id, info.verification_key_version] = public_key
    verification = check_export_signatures(export_bin, metadata, signatures, public_keys)
    checked = public_key_pem is not None

    lines = [
        "GAEN export",
        f"  header:          {EXPORT_BIN_HEADER.decode()!r}",
        f"  start_timestamp: {metadata.start_timestamp} ({_utc(metadata.start_timestamp)})",
        f"  end_timestamp:   {metadata.end_timestamp} ({_utc(metadata.end_timestamp)})",
        f"  region:          {metadata.region!r}",
        f"  batch:           {metadata.batch_num} of {metadata.batch_size}",
        f"  export.bin:      {len(export_bin)} bytes",
        "",
        f"Signature infos in export.bin: {len(metadata.signature_infos)}",
    ]
    for number, info in enumerate(metadata.signature_infos, start=1):
        lines.append(
            f"  {number}. key id {info.verification_key_id!r}, "
            f"version {info.verification_key_version!r}, "
            f"algorithm {_algorithm(info.signature_algorithm)}"
        )

    lines += ["", f"Signatures in export.sig: {len(verification.checks)}"]
    for number, check in enumerate(verification.checks, start=1):
        info = check.signature.signature_info
        status = _STATUS[check.outcome] if checked else "not checked"
        lines.append(
            f"  {number}. key id {info.verification_key_id!r}, "
            f"version {info.verification_key_version!r}, "
            f"batch {check.signature.batch_num} of {check.signature.batch_size}, "
            f"{len(check.signature.signature)} bytes: {status}"
        )

    lines += ["", f"Keys: {len(keys)}", "  by report type:"]
    lines += [f"    {name}: {count}" for name, count in _count_by_report_type(keys)]
    lines.append("  by date (UTC day of rolling_start_interval_number):")
    lines += [f"    {day}: {count}" for day, count in _count_by_date(keys)]

    lines.append("")
    lines += [f"Problem: {problem}" for problem in verification.problems]
    lines.append(f"Signature: {_verdict(verification, checked=checked)}")
    return "\n".join(lines) + "\n"


def _verdict(verification: ExportVerification, *, checked: bool) -> str:
    if not checked:
        return "not checked (no public key given)"
    # One key is given, so other signatures failing with it is normal: one match is enough,
    # as it is for a phone that knows only that key.
    verified = [
        number
        for number, check in enumerate(verification.checks, start=1)
        if check.outcome is SignatureOutcome.VALID
    ]
    if not verified:
        return "NOT VERIFIED: no signature verifies with the given public key"
    if verification.problems:
        return f"verified by signature {verified[0]}, but see the problems above"
    return f"verified with the given public key (signature {verified[0]})"


def _count_by_report_type(keys: list[ExposureKey]) -> list[tuple[str, int]]:
    counts = Counter(key.report_type for key in keys)
    return [(_report_type_name(value), counts[value]) for value in sorted(counts, key=_order)]


def _count_by_date(keys: list[ExposureKey]) -> list[tuple[str, int]]:
    counts = Counter(_interval_day(key.rolling_start_interval_number) for key in keys)
    return sorted(counts.items())


def _report_type_name(value: int | None) -> str:
    if value is None:
        return "not set"
    name: str = export_pb2.TemporaryExposureKey.ReportType.Name(value)
    return name


def _order(value: int | None) -> int:
    return -1 if value is None else value


def _interval_day(interval_number: int) -> str:
    try:
        return (
            datetime.fromtimestamp(interval_number * _INTERVAL_SECONDS, tz=UTC).date().isoformat()
        )
    except (OverflowError, OSError, ValueError):
        return f"out of range ({interval_number})"


def _utc(timestamp: int) -> str:
    try:
        return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "out of range"


def _algorithm(oid: str) -> str:
    name = _ALGORITHM_NAMES.get(oid)
    return f"{oid} ({name})" if name else f"{oid!r} (unsupported)"
