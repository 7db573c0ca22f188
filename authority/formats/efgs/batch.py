"""EFGS diagnosis-key batches: the protobuf and JSON encodings and the canonical bytes that are signed."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from authority.formats.efgs import efgs_pb2

# The gateway's own value for "no transmission risk level" (its DiagnosisKeyBatchValidator).
TRANSMISSION_RISK_LEVEL_NOT_SET = 0x7FFFFFFF
MAX_KEYS_PER_UPLOAD = 5000  # the gateway's maximum-upload-batch-size

PROTOBUF_MEDIA_TYPE = "application/protobuf; version=1.0"
JSON_MEDIA_TYPE = "application/json; version=1.0"


class BatchFormatError(ValueError):
    """Bytes that are not a DiagnosisKeyBatch."""


class ReportType:
    """The gateway's ReportType enum (the GAEN report types, same numbers)."""

    UNKNOWN = 0
    CONFIRMED_TEST = 1
    CONFIRMED_CLINICAL_DIAGNOSIS = 2
    SELF_REPORT = 3
    RECURSIVE = 4
    REVOKED = 5


@dataclass(frozen=True, slots=True)
class DiagnosisKey:
    """One key as the gateway exchanges it: every field is always present (proto3)."""

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int
    transmission_risk_level: int
    visited_countries: tuple[str, ...] = field(default=())
    origin: str = ""
    report_type: int = ReportType.CONFIRMED_TEST
    days_since_onset_of_symptoms: int = 0


# ------------------------------------------------------------------------ the signed bytes


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def _int32(value: int) -> bytes:
    # Java's ByteBuffer.putInt: the 32-bit pattern big-endian, whatever the protobuf type
    # (uint32 above 2^31 and negative sint32 give the same four bytes).
    return _b64((value & 0xFFFFFFFF).to_bytes(4, "big"))


def _ascii(text: str) -> bytes:
    # Java's String.getBytes(US_ASCII) puts '?' for what is not ASCII; so does this.
    return _b64(text.encode("ascii", errors="replace"))


def key_signing_bytes(key: DiagnosisKey) -> bytes:
    """The canonical bytes of one key: each field base64-encoded and followed by '.'.

    Order and encodings of the gateway's BatchSignatureUtils.generateBytesToVerify: key data,
    rolling start interval number, rolling period, transmission risk level (4 bytes each,
    big-endian), the visited countries joined by ',' in their protobuf order, the origin,
    the report type and the days since onset of symptoms.
    """
    return b"".join(
        part + b"."
        for part in (
            _b64(key.key_data),
            _int32(key.rolling_start_interval_number),
            _int32(key.rolling_period),
            _int32(key.transmission_risk_level),
            _ascii(",".join(key.visited_countries)),
            _ascii(key.origin),
            _int32(key.report_type),
            _int32(key.days_since_onset_of_symptoms),
        )
    )


def batch_signing_bytes(keys: Iterable[DiagnosisKey]) -> bytes:
    """What a batch signature covers: every key's canonical bytes, sorted by their base64.

    The gateway sorts by the base64 text of each key's canonical bytes (Java String order,
    which for base64's ASCII alphabet is byte order), so the order keys travel in does not
    matter to the signature.
    """
    canonical = [key_signing_bytes(key) for key in keys]
    canonical.sort(key=_b64)
    return b"".join(canonical)


# -------------------------------------------------------------------------------- protobuf


def _to_message(key: DiagnosisKey) -> efgs_pb2.DiagnosisKey:
    return efgs_pb2.DiagnosisKey(
        keyData=key.key_data,
        rollingStartIntervalNumber=key.rolling_start_interval_number,
        rollingPeriod=key.rolling_period,
        transmissionRiskLevel=key.transmission_risk_level,
        visitedCountries=list(key.visited_countries),
        origin=key.origin,
        reportType=key.report_type,  # type: ignore[arg-type]  # proto3 enums are open
        days_since_onset_of_symptoms=key.days_since_onset_of_symptoms,
    )


def _from_message(message: efgs_pb2.DiagnosisKey) -> DiagnosisKey:
    return DiagnosisKey(
        key_data=bytes(message.keyData),
        rolling_start_interval_number=message.rollingStartIntervalNumber,
        rolling_period=message.rollingPeriod,
        transmission_risk_level=message.transmissionRiskLevel,
        visited_countries=tuple(message.visitedCountries),
        origin=message.origin,
        report_type=int(message.reportType),
        days_since_onset_of_symptoms=message.days_since_onset_of_symptoms,
    )


def encode_batch(keys: Sequence[DiagnosisKey]) -> bytes:
    """A DiagnosisKeyBatch protobuf holding the keys in the order given."""
    batch = efgs_pb2.DiagnosisKeyBatch(keys=[_to_message(key) for key in keys])
    serialized: bytes = batch.SerializeToString()
    return serialized


def decode_batch(data: bytes) -> list[DiagnosisKey]:
    """The keys of a DiagnosisKeyBatch protobuf, in their order; BatchFormatError if malformed."""
    batch = efgs_pb2.DiagnosisKeyBatch()
    try:
        batch.ParseFromString(data)
    except DecodeError as error:
        raise BatchFormatError(f"not a DiagnosisKeyBatch: {error}") from error
    return [_from_message(message) for message in batch.keys]


def encode_batch_json(keys: Sequence[DiagnosisKey]) -> bytes:
    """The gateway's JSON form: proto field names, key data in standard base64, enum names."""
    batch = efgs_pb2.DiagnosisKeyBatch(keys=[_to_message(key) for key in keys])
    text = json_format.MessageToJson(
        batch, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return text.encode()


def decode_batch_json(data: bytes) -> list[DiagnosisKey]:
    """The keys of the JSON form; BatchFormatError on bad JSON, fields or base64."""
    batch = efgs_pb2.DiagnosisKeyBatch()
    try:
        json_format.Parse(data.decode("utf-8"), batch)
    except (json_format.ParseError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BatchFormatError(f"not a DiagnosisKeyBatch in JSON: {error}") from error
    return [_from_message(message) for message in batch.keys]
