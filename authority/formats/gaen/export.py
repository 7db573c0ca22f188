"""Encode and decode GAEN export files: export.bin, export.sig and the zip holding them."""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import IO, Any, TypeAlias

from google.protobuf.message import DecodeError

from authority.formats.gaen import export_pb2

EXPORT_BIN_HEADER = b"EK Export v1".ljust(16, b" ")
EXPORT_BIN_NAME = "export.bin"
EXPORT_SIG_NAME = "export.sig"
ECDSA_P256_SHA256_OID = "1.2.840.10045.4.3.2"

KEY_DATA_LENGTH = 16
DEFAULT_ROLLING_PERIOD = 144
MAX_KEYS_PER_FILE = 750_000

# 750,000 keys take about 30 MB; anything far bigger is not an export, and refusing it
# keeps a hostile zip from inflating into memory.
MAX_ENTRY_BYTES = 64 * 1024 * 1024

# A fixed, valid DOS date: the same keys give the same zip bytes whenever they are built.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

# Joining keys into chunks keeps the per-chunk overhead of zip writing and hashing small.
_KEYS_PER_CHUNK = 4096


class ExportFormatError(ValueError):
    """Bytes that are not a well-formed GAEN export (zip, export.bin or export.sig)."""


@dataclass(frozen=True, slots=True)
class ExposureKey:
    """One temporary exposure key as published; None means the field is left out."""

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int = DEFAULT_ROLLING_PERIOD
    transmission_risk_level: int | None = None
    report_type: int | None = None
    days_since_onset_of_symptoms: int | None = None
    variant_of_concern: int | None = None


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    """Identifies the key that signs an export, as phones look it up."""

    verification_key_version: str
    verification_key_id: str
    signature_algorithm: str = ECDSA_P256_SHA256_OID


@dataclass(frozen=True, slots=True)
class ExportMetadata:
    """Everything in export.bin except the keys."""

    start_timestamp: int
    end_timestamp: int
    region: str
    batch_num: int = 1
    batch_size: int = 1
    signature_infos: tuple[SignatureInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportSignature:
    """One entry of export.sig: a signature of the whole export.bin and who made it."""

    signature_info: SignatureInfo
    signature: bytes
    batch_num: int = 1
    batch_size: int = 1


# ---------------------------------------------------------------------------- export.bin


def encode_export_bin(metadata: ExportMetadata, keys: Iterable[ExposureKey]) -> bytes:
    """Return export.bin for these keys, sorted by key bytes as the format requires."""
    ordered = sorted(keys, key=attrgetter("key_data"))
    _check_key_count(len(ordered))
    message = _metadata_message(metadata)
    for key in ordered:
        message.keys.add(**_key_fields(key))
    serialized: bytes = message.SerializeToString()
    return EXPORT_BIN_HEADER + serialized


def iter_export_bin(
    metadata: ExportMetadata, sorted_keys: Iterable[ExposureKey]
) -> Iterator[bytes]:
    """Yield export.bin in chunks, byte-identical to `encode_export_bin`, one key at a time.

    For files too big to hold as Python objects: `sorted_keys` may be a lazy iterator
    (e.g. a database cursor ordered by key), so it must already be sorted by key bytes;
    a key out of order raises ValueError. Protobuf writes fields in field-number order and
    `keys` (7) is the last field we set, so the metadata message followed by one
    length-delimited field-7 record per key is exactly what the one-shot encoder produces.
    """
    yield EXPORT_BIN_HEADER + _metadata_message(metadata).SerializeToString()
    # A message holding only keys serializes to exactly its field-7 records, in order: each
    # chunk is encoded by protobuf's C code in one call instead of one message per key.
    chunk = export_pb2.TemporaryExposureKeyExport()
    count = 0
    previous: bytes | None = None
    for key in sorted_keys:
        if previous is not None and key.key_data < previous:
            raise ValueError("iter_export_bin needs keys sorted by key_data")
        previous = key.key_data
        chunk.keys.add(**_key_fields(key))
        count += 1
        if count % _KEYS_PER_CHUNK == 0:
            _check_key_count(count)
            yield chunk.SerializeToString()
            chunk.Clear()
    _check_key_count(count)
    if count % _KEYS_PER_CHUNK:
        yield chunk.SerializeToString()


# A key as a database cursor returns it: ExposureKey's fields in their order, without
# variant_of_concern (never stored): (key_data, rolling_start_interval_number,
# rolling_period, transmission_risk_level, report_type, days_since_onset_of_symptoms).
KeyRow: TypeAlias = tuple[bytes, int, int, int | None, int | None, int | None]


def iter_export_bin_rows(
    metadata: ExportMetadata, sorted_rows: Iterable[tuple[Any, ...]]
) -> Iterator[bytes]:
    """`iter_export_bin` for keys given as `KeyRow` tuples: the same bytes, about twice as fast.

    Made for a million keys streamed from a database: no protobuf message and no call into
    protobuf per key. A key's record is its 16 bytes between a head and a tail that depend
    only on its other fields, and a file holds few distinct combinations of those (days,
    periods, risk levels), so protobuf encodes each combination once, around placeholder key
    bytes, and each key's record is those bytes joined around its own. Rows must be sorted
    by key_data; a row out of order, or key_data that is not 16 bytes, raises ValueError.
    """
    yield EXPORT_BIN_HEADER + _metadata_message(metadata).SerializeToString()
    around_key: dict[tuple[Any, ...], tuple[bytes, bytes]] = {}
    chunk: list[bytes] = []
    append = chunk.append
    in_chunk = 0
    count = 0
    previous = b""
    for row in sorted_rows:
        key_data = row[0]
        if not previous <= key_data or len(key_data) != KEY_DATA_LENGTH:
            _refuse_row(key_data)
        previous = key_data
        try:
            head, tail = around_key[row[1:]]
        except KeyError:
            head, tail = around_key[row[1:]] = _record_around_key(row[1:])
        append(head + key_data + tail)
        in_chunk += 1
        if in_chunk == _KEYS_PER_CHUNK:
            count += in_chunk
            in_chunk = 0
            _check_key_count(count)
            yield b"".join(chunk)
            chunk.clear()
    count += in_chunk
    _check_key_count(count)
    if chunk:
        yield b"".join(chunk)


def _refuse_row(key_data: bytes) -> None:
    if len(key_data) != KEY_DATA_LENGTH:
        raise ValueError(f"key_data must be {KEY_DATA_LENGTH} bytes, got {len(key_data)}")
    raise ValueError("iter_export_bin_rows needs rows sorted by key_data")


def _record_around_key(fields: tuple[Any, ...]) -> tuple[bytes, bytes]:
    """The bytes of a key's field-7 record before and after its key_data, given its other fields.

    The record is tag 7 (0x3a), the message length (a varint), then the message, whose
    first field is key_data: tag 1 (0x0a), length 16 (0x10), the 16 bytes.
    """
    message = export_pb2.TemporaryExposureKeyExport()
    message.keys.add(**_key_fields(ExposureKey(bytes(KEY_DATA_LENGTH), *fields)))
    record: bytes = message.SerializeToString()
    position = 1
    while record[position] & 0x80:  # the length varint goes on
        position += 1
    key_start = position + 3  # past the length's last byte, tag 1 and length 16
    return record[:key_start], record[key_start + KEY_DATA_LENGTH :]


def decode_export_bin(data: bytes) -> tuple[ExportMetadata, list[ExposureKey]]:
    """Return the metadata and keys of an export.bin, in file order."""
    if data[: len(EXPORT_BIN_HEADER)] != EXPORT_BIN_HEADER:
        raise ExportFormatError(
            f"export.bin must start with the 16-byte header {EXPORT_BIN_HEADER!r}, "
            f"found {bytes(data[: len(EXPORT_BIN_HEADER)])!r}."
        )
    message = export_pb2.TemporaryExposureKeyExport()
    try:
        # protobuf parses any buffer, where its stubs say bytes: the view spares copying the file.
        message.ParseFromString(memoryview(data)[len(EXPORT_BIN_HEADER) :])  # type: ignore[arg-type]
    except DecodeError as error:
        raise ExportFormatError(f"export.bin is not a valid protobuf export: {error}") from None
    if message.revised_keys:
        # We never publish revised keys; refusing them beats returning half a file.
        raise ExportFormatError(
            f"export.bin has {len(message.revised_keys)} revised_keys, which this codec "
            "does not read."
        )
    metadata = ExportMetadata(
        start_timestamp=message.start_timestamp,
        end_timestamp=message.end_timestamp,
        region=message.region,
        batch_num=message.batch_num,
        batch_size=message.batch_size,
        signature_infos=tuple(_signature_info(info) for info in message.signature_infos),
    )
    return metadata, [_exposure_key(key) for key in message.keys]


# ---------------------------------------------------------------------------- export.sig


def encode_signature_list(signatures: Sequence[ExportSignature]) -> bytes:
    """Return export.sig holding these signatures, in the order given."""
    message = export_pb2.TEKSignatureList()
    for signature in signatures:
        message.signatures.add(
            signature_info=_signature_info_message(signature.signature_info),
            batch_num=signature.batch_num,
            batch_size=signature.batch_size,
            signature=signature.signature,
        )
    serialized: bytes = message.SerializeToString()
    return serialized


def decode_signature_list(data: bytes) -> list[ExportSignature]:
    """Return the signatures in an export.sig, in file order."""
    message = export_pb2.TEKSignatureList()
    try:
        message.ParseFromString(data)
    except DecodeError as error:
        raise ExportFormatError(f"export.sig is not a valid TEKSignatureList: {error}") from None
    return [
        ExportSignature(
            signature_info=_signature_info(signature.signature_info),
            signature=signature.signature,
            batch_num=signature.batch_num,
            batch_size=signature.batch_size,
        )
        for signature in message.signatures
    ]


# ---------------------------------------------------------------------------- zip


def build_export_zip(export_bin: bytes, export_sig: bytes) -> bytes:
    """Return the zip phones download: export.bin then export.sig, with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_zip_entry(EXPORT_BIN_NAME), export_bin)
        archive.writestr(_zip_entry(EXPORT_SIG_NAME), export_sig)
    return buffer.getvalue()


def write_export_zip(
    out: IO[bytes],
    export_bin_chunks: Iterable[bytes],
    make_export_sig: Callable[[bytes], bytes],
) -> None:
    """Stream an export zip to `out` without holding export.bin in memory.

    `make_export_sig` gets the SHA-256 digest of the whole export.bin once it has been
    written and returns export.sig, so signing happens in the same single pass. The bytes
    are identical to `build_export_zip` given the same export.bin and export.sig.
    """
    digest = hashlib.sha256()
    size = 0
    with zipfile.ZipFile(out, "w") as archive:
        with archive.open(_zip_entry(EXPORT_BIN_NAME), "w") as entry:
            for chunk in export_bin_chunks:
                size += len(chunk)
                if size > MAX_ENTRY_BYTES:
                    raise ValueError(f"export.bin would exceed {MAX_ENTRY_BYTES} bytes")
                digest.update(chunk)
                entry.write(chunk)
        archive.writestr(_zip_entry(EXPORT_SIG_NAME), make_export_sig(digest.digest()))


# What zipfile raises on damaged bytes (found by tests/formats/test_gaen_decoders_fuzz.py).
_DAMAGED_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    zlib.error,
    NotImplementedError,
    ValueError,
)


def read_export_zip(zip_bytes: bytes) -> tuple[bytes, bytes]:
    """Return (export.bin, export.sig) from an export zip, refusing anything else in it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_bytes))
    except _DAMAGED_ZIP as error:
        raise ExportFormatError(f"Not a zip file: {error}") from None
    with archive:
        names = archive.namelist()
        if sorted(names) != [EXPORT_BIN_NAME, EXPORT_SIG_NAME]:
            raise ExportFormatError(
                f"An export zip holds exactly {EXPORT_BIN_NAME} and {EXPORT_SIG_NAME}, "
                f"found {names}."
            )
        for info in archive.infolist():
            if info.file_size > MAX_ENTRY_BYTES:
                raise ExportFormatError(
                    f"{info.filename} is {info.file_size} bytes, over the {MAX_ENTRY_BYTES} limit."
                )
            if info.flag_bits & 0x1:  # zipfile would ask for a password (RuntimeError)
                raise ExportFormatError(f"{info.filename} is encrypted; exports never are.")
        try:
            return archive.read(EXPORT_BIN_NAME), archive.read(EXPORT_SIG_NAME)
        except _DAMAGED_ZIP as error:
            # A CRC mismatch, a broken or truncated deflate stream, an unknown compression
            # method: the zip was damaged or tampered with.
            raise ExportFormatError(f"Corrupt export zip: {error}") from None


# ---------------------------------------------------------------------------- internals


def _metadata_message(metadata: ExportMetadata) -> export_pb2.TemporaryExposureKeyExport:
    return export_pb2.TemporaryExposureKeyExport(
        start_timestamp=metadata.start_timestamp,
        end_timestamp=metadata.end_timestamp,
        region=metadata.region,
        batch_num=metadata.batch_num,
        batch_size=metadata.batch_size,
        signature_infos=[_signature_info_message(info) for info in metadata.signature_infos],
    )


def _key_fields(key: ExposureKey) -> dict[str, Any]:
    if len(key.key_data) != KEY_DATA_LENGTH:
        raise ValueError(f"key_data must be {KEY_DATA_LENGTH} bytes, got {len(key.key_data)}")
    if not 1 <= key.rolling_period <= DEFAULT_ROLLING_PERIOD:
        raise ValueError(f"rolling_period must be 1..144, got {key.rolling_period}")
    # rolling_period is always written, like Google's server does, even when it equals the
    # proto default; optional fields that are None are left out so that phones see them as
    # unset (this is what reproduces Google's reference export byte for byte).
    fields: dict[str, Any] = {
        "key_data": key.key_data,
        "rolling_start_interval_number": key.rolling_start_interval_number,
        "rolling_period": key.rolling_period,
    }
    if key.transmission_risk_level is not None:
        fields["transmission_risk_level"] = key.transmission_risk_level
    if key.report_type is not None:
        fields["report_type"] = key.report_type
    if key.days_since_onset_of_symptoms is not None:
        fields["days_since_onset_of_symptoms"] = key.days_since_onset_of_symptoms
    if key.variant_of_concern is not None:
        fields["variant_of_concern"] = key.variant_of_concern
    return fields


def _exposure_key(message: export_pb2.TemporaryExposureKey) -> ExposureKey:
    def optional(field: str) -> int | None:
        return getattr(message, field) if message.HasField(field) else None

    return ExposureKey(
        key_data=message.key_data,
        rolling_start_interval_number=message.rolling_start_interval_number,
        # An absent rolling_period reads as the format's default, 144.
        rolling_period=message.rolling_period,
        transmission_risk_level=optional("transmission_risk_level"),
        report_type=optional("report_type"),
        days_since_onset_of_symptoms=optional("days_since_onset_of_symptoms"),
        variant_of_concern=optional("variant_of_concern"),
    )


def _signature_info_message(info: SignatureInfo) -> export_pb2.SignatureInfo:
    return export_pb2.SignatureInfo(
        verification_key_version=info.verification_key_version,
        verification_key_id=info.verification_key_id,
        signature_algorithm=info.signature_algorithm,
    )


def _signature_info(message: export_pb2.SignatureInfo) -> SignatureInfo:
    return SignatureInfo(
        verification_key_version=message.verification_key_version,
        verification_key_id=message.verification_key_id,
        signature_algorithm=message.signature_algorithm,
    )


def _check_key_count(count: int) -> None:
    if count > MAX_KEYS_PER_FILE:
        raise ValueError(f"An export holds at most {MAX_KEYS_PER_FILE} keys, got {count}")


def _zip_entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    # Fixed rather than taken from the host OS, so the bytes do not depend on where we run.
    entry.create_system = 0
    entry.external_attr = 0
    return entry
