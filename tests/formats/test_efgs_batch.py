"""The EFGS batch codec and the canonical bytes a batch signature covers, against the gateway's vectors."""

from __future__ import annotations

import base64
import dataclasses
import random
from pathlib import Path

import pytest

from authority.formats.efgs import dsos
from authority.formats.efgs.batch import (
    BatchFormatError,
    DiagnosisKey,
    batch_signing_bytes,
    decode_batch,
    decode_batch_json,
    encode_batch,
    encode_batch_json,
    key_signing_bytes,
)

VECTORS = (
    Path(__file__).parent.parent / "data" / "efgs-signature-vectors" / "canonical-key-bytes.txt"
)


def _int_list(column: str) -> bytes:
    return bytes(int(value) & 0xFF for value in column[1:-1].split(","))


def _vector_keys() -> list[tuple[DiagnosisKey, list[str]]]:
    rows = []
    for line in VECTORS.read_text().splitlines():
        columns = line.split("|")
        key = DiagnosisKey(
            key_data=_int_list(columns[0]),
            rolling_start_interval_number=int.from_bytes(_int_list(columns[2]), "big"),
            rolling_period=int.from_bytes(_int_list(columns[4]), "big"),
            transmission_risk_level=int.from_bytes(_int_list(columns[6]), "big", signed=True),
            visited_countries=tuple(columns[8][1:-1].split(",")),
            origin=columns[10][1:-1],
            report_type=int.from_bytes(_int_list(columns[12]), "big"),
            days_since_onset_of_symptoms=int.from_bytes(_int_list(columns[14]), "big", signed=True),
        )
        rows.append((key, columns))
    return rows


def test_efgs_batch_signature_utils_csharp_cross_language_calculation() -> None:
    # Ported from the gateway's BatchSignatureUtilsTest.testCSharpCrossLanguageCalculation
    # (src/test/java/eu/interop/federationgateway/batchsigning/BatchSignatureUtilsTest.java):
    # every key's canonical bytes equal the C# implementation's, column by column.
    rows = _vector_keys()
    assert len(rows) == 200
    for key, columns in rows:
        fields = key_signing_bytes(key).split(b".")[:-1]
        assert [field.decode() for field in fields] == [
            columns[1],
            columns[3],
            columns[5],
            columns[7],
            columns[9],
            columns[11],
            columns[13],
            columns[15],
        ]
        assert base64.b64encode(key_signing_bytes(key)).decode() == columns[16]


def test_batch_signing_bytes_sort_keys_by_the_base64_of_their_canonical_bytes() -> None:
    rows = _vector_keys()
    expected = b"".join(
        base64.b64decode(columns[16]) for _key, columns in sorted(rows, key=lambda row: row[1][16])
    )
    keys = [key for key, _columns in rows]
    random.Random(7).shuffle(keys)
    assert batch_signing_bytes(keys) == expected


def _key(key_data: bytes, start: int, period: int, trl: int, countries: list[str]) -> DiagnosisKey:
    # The gateway's TestData.createDiagnosisKeyDetails: origin DE, report type 1, DSOS 42.
    return DiagnosisKey(
        key_data=key_data,
        rolling_start_interval_number=start,
        rolling_period=period,
        transmission_risk_level=trl,
        visited_countries=tuple(countries),
        origin="DE",
        report_type=1,
        days_since_onset_of_symptoms=42,
    )


def test_efgs_batch_signature_utils_signature_malleability() -> None:
    # Ported from BatchSignatureUtilsTest.testSignatureMalleability: two different keys whose
    # fields, glued without separators, would read alike must give different signed bytes.
    original = _key(b"1", 0x32330000, 0, 0, ["AA", "DE", "NL"])
    modified = _key(b"123", 0, 0, 0x4141, ["DE", "NL"])
    assert batch_signing_bytes([original]) != batch_signing_bytes([modified])


def test_efgs_batch_signature_utils_max_uint_value() -> None:
    # Ported from BatchSignatureUtilsTest.testMaxUintValue: uint32 fields above 2^31 are
    # written as their 32-bit pattern, as Java's putInt does.
    key = _key(b"k" * 16, 0xFFFFFFFF, 0xFFFFFFFF, 0, ["DE"])
    fields = key_signing_bytes(key).split(b".")
    assert base64.b64decode(fields[1]) == b"\xff\xff\xff\xff"
    assert base64.b64decode(fields[2]) == b"\xff\xff\xff\xff"


def test_negative_days_since_onset_are_twos_complement() -> None:
    key = _key(b"k" * 16, 1, 144, 0x7FFFFFFF, [])
    key = dataclasses.replace(key, days_since_onset_of_symptoms=-16)
    fields = key_signing_bytes(key).split(b".")
    assert base64.b64decode(fields[7]) == b"\xff\xff\xff\xf0"
    assert base64.b64decode(fields[3]) == b"\x7f\xff\xff\xff"
    assert fields[4] == b""  # no visited country: the base64 of nothing


def test_a_batch_survives_protobuf_and_json() -> None:
    keys = [key for key, _columns in _vector_keys()[:20]]
    assert decode_batch(encode_batch(keys)) == keys
    assert decode_batch_json(encode_batch_json(keys)) == keys


def test_json_uses_the_gateways_field_names_and_base64() -> None:
    key = _key(bytes(range(16)), 2_700_000, 144, 3, ["FR"])
    text = encode_batch_json([key]).decode()
    assert '"keyData": "AAECAwQFBgcICQoLDA0ODw=="' in text
    assert '"days_since_onset_of_symptoms": 42' in text
    assert '"reportType": "CONFIRMED_TEST"' in text


def test_bytes_that_are_not_a_batch_are_refused() -> None:
    with pytest.raises(BatchFormatError):
        decode_batch(b"\x0a\xff\xff\xff")
    with pytest.raises(BatchFormatError):
        decode_batch_json(b'{"keys": [{"keyData": "not base64!"}]}')


@pytest.mark.parametrize(
    ("value", "days"),
    [
        (0, 0),
        (-14, -14),
        (14, 14),
        (15, None),
        (86, -14),
        (703, 3),
        (1986, -14),
        (3000, 0),
        (4014, 14),
        (5000, None),
    ],
)
def test_days_since_onset_decode_every_efgs_range(value: int, days: int | None) -> None:
    assert dsos.decode(value) == days


def test_days_since_onset_encode_clamps_to_the_range() -> None:
    assert dsos.encode(-20, offset=dsos.ASYMPTOMATIC_OFFSET) == 2986
    assert dsos.encode(3, offset=0) == 3
    with pytest.raises(ValueError):
        dsos.encode(0, offset=50)
