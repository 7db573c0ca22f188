import base64
import dataclasses
import hashlib
import io
import json
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authority.formats.gaen import export
from authority.formats.gaen.export import (
    EXPORT_BIN_HEADER,
    ExportFormatError,
    ExportMetadata,
    ExportSignature,
    ExposureKey,
    SignatureInfo,
    build_export_zip,
    decode_export_bin,
    decode_signature_list,
    encode_export_bin,
    encode_signature_list,
    iter_export_bin,
    iter_export_bin_rows,
    read_export_zip,
    write_export_zip,
)
from authority.formats.gaen.export_pb2 import TemporaryExposureKey, TemporaryExposureKeyExport

GOOGLE = Path(__file__).parent.parent / "data" / "gaen-google-example"

# The metadata of Google's reference export, as listed in its SOURCE.md.
GOOGLE_METADATA = ExportMetadata(
    start_timestamp=1590159600,
    end_timestamp=1590246000,
    region="US",
    batch_num=1,
    batch_size=1,
    signature_infos=(SignatureInfo(verification_key_version="1", verification_key_id="some_id"),),
)

INT32 = st.integers(-(2**31), 2**31 - 1)
# Protobuf strings are UTF-8: lone surrogates cannot be encoded.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)

exposure_keys = st.builds(
    ExposureKey,
    key_data=st.binary(min_size=16, max_size=16),
    rolling_start_interval_number=INT32,
    rolling_period=st.integers(1, 144),
    transmission_risk_level=st.none() | INT32,
    report_type=st.none() | st.integers(0, 5),
    days_since_onset_of_symptoms=st.none() | INT32,
    variant_of_concern=st.none() | st.integers(0, 4),
)
signature_infos = st.builds(
    SignatureInfo,
    verification_key_version=TEXT,
    verification_key_id=TEXT,
    signature_algorithm=TEXT,
)
export_metadata = st.builds(
    ExportMetadata,
    start_timestamp=st.integers(0, 2**64 - 1),
    end_timestamp=st.integers(0, 2**64 - 1),
    region=TEXT,
    batch_num=INT32,
    batch_size=INT32,
    signature_infos=st.lists(signature_infos, max_size=3).map(tuple),
)


def google_zip() -> bytes:
    return (GOOGLE / "testExport-2-records-1-of-1.zip").read_bytes()


def google_keys() -> list[ExposureKey]:
    published = json.loads((GOOGLE / "keys.json").read_text())["temporaryExposureKeys"]
    return [
        ExposureKey(
            key_data=base64.b64decode(key["key"]),
            rolling_start_interval_number=key["rollingStartNumber"],
            rolling_period=key["rollingPeriod"],
            transmission_risk_level=key["transmissionRisk"],
        )
        for key in published
    ]


def random_keys(count: int, seed: int = 1) -> list[ExposureKey]:
    rng = random.Random(seed)
    return [
        ExposureKey(
            key_data=rng.randbytes(16),
            rolling_start_interval_number=2_700_000 + rng.randrange(2016),
            rolling_period=rng.choice([144, 144, 1, 72]),
            transmission_risk_level=rng.choice([None, rng.randrange(9)]),
            report_type=rng.choice([None, 1, 2, 3]),
            days_since_onset_of_symptoms=rng.choice([None, rng.randrange(-14, 15)]),
            variant_of_concern=rng.choice([None, None, 2]),
        )
        for _ in range(count)
    ]


# ---------------------------------------------------------------------- Google's vector


def test_it_reproduces_googles_export_bin():
    googles_export_bin, _ = read_export_zip(google_zip())

    assert encode_export_bin(GOOGLE_METADATA, google_keys()) == googles_export_bin


def test_it_decodes_googles_export_bin():
    googles_export_bin, _ = read_export_zip(google_zip())

    metadata, keys = decode_export_bin(googles_export_bin)

    assert metadata == GOOGLE_METADATA
    assert keys == sorted(google_keys(), key=lambda key: key.key_data)
    assert (keys[0].rolling_period, keys[0].transmission_risk_level) == (1, 8)


def test_it_decodes_googles_export_sig():
    _, googles_export_sig = read_export_zip(google_zip())

    [signature] = decode_signature_list(googles_export_sig)

    assert signature.signature_info == GOOGLE_METADATA.signature_infos[0]
    assert (signature.batch_num, signature.batch_size) == (1, 1)
    assert signature.signature.startswith(b"\x30")  # a DER SEQUENCE


def test_it_reencodes_googles_export_sig_byte_identically():
    _, googles_export_sig = read_export_zip(google_zip())

    assert encode_signature_list(decode_signature_list(googles_export_sig)) == googles_export_sig


# ---------------------------------------------------------------------- export.bin


def test_export_bin_starts_with_the_padded_header():
    export_bin = encode_export_bin(GOOGLE_METADATA, google_keys())

    assert EXPORT_BIN_HEADER == b"EK Export v1    "
    assert export_bin[:16] == EXPORT_BIN_HEADER


def test_it_sorts_keys_by_key_bytes():
    keys = random_keys(50)

    _, decoded = decode_export_bin(encode_export_bin(GOOGLE_METADATA, keys))

    assert [key.key_data for key in decoded] == sorted(key.key_data for key in keys)


def test_it_leaves_unset_optional_fields_out_of_the_file():
    key = ExposureKey(key_data=bytes(16), rolling_start_interval_number=2_650_000)
    export_bin = encode_export_bin(GOOGLE_METADATA, [key])

    message = TemporaryExposureKeyExport.FromString(export_bin[16:])

    [written] = message.keys
    assert [field.name for field, _ in written.ListFields()] == [
        "key_data",
        "rolling_start_interval_number",
        "rolling_period",
    ]


def test_it_writes_every_optional_field_that_is_set():
    key = ExposureKey(
        key_data=bytes(range(16)),
        rolling_start_interval_number=2_650_000,
        rolling_period=144,
        transmission_risk_level=0,
        report_type=TemporaryExposureKey.CONFIRMED_TEST,
        days_since_onset_of_symptoms=-3,
        variant_of_concern=0,
    )

    _, [decoded] = decode_export_bin(encode_export_bin(GOOGLE_METADATA, [key]))

    assert decoded == key


def test_it_reads_a_missing_rolling_period_as_144():
    message = TemporaryExposureKeyExport(region="IT")
    message.keys.add(key_data=bytes(16), rolling_start_interval_number=2_650_000)

    _, [key] = decode_export_bin(EXPORT_BIN_HEADER + message.SerializeToString())

    assert key.rolling_period == 144


def test_it_rejects_a_key_that_is_not_16_bytes():
    key = ExposureKey(key_data=bytes(15), rolling_start_interval_number=2_650_000)

    with pytest.raises(ValueError, match="16 bytes"):
        encode_export_bin(GOOGLE_METADATA, [key])


@pytest.mark.parametrize("rolling_period", [0, 145])
def test_it_rejects_a_rolling_period_outside_1_to_144(rolling_period):
    key = ExposureKey(bytes(16), 2_650_000, rolling_period=rolling_period)

    with pytest.raises(ValueError, match="rolling_period"):
        encode_export_bin(GOOGLE_METADATA, [key])


def test_it_refuses_more_keys_than_a_file_may_hold(monkeypatch):
    monkeypatch.setattr(export, "MAX_KEYS_PER_FILE", 3)

    with pytest.raises(ValueError, match="at most 3 keys"):
        encode_export_bin(GOOGLE_METADATA, random_keys(4))
    with pytest.raises(ValueError, match="at most 3 keys"):
        b"".join(iter_export_bin(GOOGLE_METADATA, sorted(random_keys(4), key=_by_key_data)))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"EK Export v1",
        b"EK Export v2    " + TemporaryExposureKeyExport(region="IT").SerializeToString(),
        b"PK\x03\x04 this is a zip, not export.bin",
    ],
)
def test_it_rejects_a_bad_header(data):
    with pytest.raises(ExportFormatError, match="header"):
        decode_export_bin(data)


def test_it_rejects_garbage_after_the_header():
    with pytest.raises(ExportFormatError, match="not a valid protobuf"):
        decode_export_bin(EXPORT_BIN_HEADER + b"\xff\xff\xff\xff garbage")


def test_it_rejects_a_truncated_export_bin():
    export_bin = encode_export_bin(GOOGLE_METADATA, random_keys(3))

    with pytest.raises(ExportFormatError):
        decode_export_bin(export_bin[:-5])


def test_it_refuses_revised_keys_rather_than_dropping_them():
    message = TemporaryExposureKeyExport(region="IT")
    message.revised_keys.add(key_data=bytes(16), rolling_start_interval_number=2_650_000)

    with pytest.raises(ExportFormatError, match="revised_keys"):
        decode_export_bin(EXPORT_BIN_HEADER + message.SerializeToString())


@given(metadata=export_metadata, keys=st.lists(exposure_keys, max_size=20))
def test_encode_then_decode_gives_back_the_metadata_and_sorted_keys(metadata, keys):
    decoded_metadata, decoded_keys = decode_export_bin(encode_export_bin(metadata, keys))

    assert decoded_metadata == metadata
    assert decoded_keys == sorted(keys, key=_by_key_data)


# ---------------------------------------------------------------------- streaming encoder


@given(metadata=export_metadata, keys=st.lists(exposure_keys, max_size=20))
def test_streaming_encoder_matches_the_one_shot_encoder(metadata, keys):
    streamed = b"".join(iter_export_bin(metadata, sorted(keys, key=_by_key_data)))

    assert streamed == encode_export_bin(metadata, keys)


def test_streaming_encoder_matches_the_one_shot_encoder_across_many_chunks():
    keys = sorted(random_keys(10_000), key=_by_key_data)

    chunks = list(iter_export_bin(GOOGLE_METADATA, iter(keys)))

    assert len(chunks) > 2
    assert b"".join(chunks) == encode_export_bin(GOOGLE_METADATA, keys)


def test_streaming_encoder_rejects_keys_out_of_order():
    keys = sorted(random_keys(3), key=_by_key_data, reverse=True)

    with pytest.raises(ValueError, match="sorted"):
        b"".join(iter_export_bin(GOOGLE_METADATA, keys))


# ---------------------------------------------------------------------- encoder of rows


def as_row(key: ExposureKey) -> tuple[object, ...]:
    """A key as a database cursor returns it (no variant_of_concern: it is never stored)."""
    return (
        key.key_data,
        key.rolling_start_interval_number,
        key.rolling_period,
        key.transmission_risk_level,
        key.report_type,
        key.days_since_onset_of_symptoms,
    )


stored_keys = exposure_keys.map(lambda key: dataclasses.replace(key, variant_of_concern=None))


@given(metadata=export_metadata, keys=st.lists(stored_keys, max_size=30))
def test_row_encoder_matches_the_one_shot_encoder(metadata, keys):
    rows = [as_row(key) for key in sorted(keys, key=_by_key_data)]

    assert b"".join(iter_export_bin_rows(metadata, rows)) == encode_export_bin(metadata, keys)


def test_row_encoder_reproduces_googles_export_bin():
    googles_export_bin, _ = read_export_zip(google_zip())
    rows = [as_row(key) for key in sorted(google_keys(), key=_by_key_data)]

    assert b"".join(iter_export_bin_rows(GOOGLE_METADATA, rows)) == googles_export_bin


def test_row_encoder_matches_the_one_shot_encoder_across_many_chunks_and_repeated_fields():
    keys = [dataclasses.replace(key, variant_of_concern=None) for key in random_keys(10_000)]
    rows = [as_row(key) for key in sorted(keys, key=_by_key_data)]

    chunks = list(iter_export_bin_rows(GOOGLE_METADATA, iter(rows)))

    assert len(chunks) > 2
    assert b"".join(chunks) == encode_export_bin(GOOGLE_METADATA, keys)


def test_row_encoder_takes_keys_that_share_bytes_in_interval_order():
    rows = [(bytes(16), 2_650_000, 144, None, 1, 0), (bytes(16), 2_650_144, 144, None, 1, 1)]

    _, keys = decode_export_bin(b"".join(iter_export_bin_rows(GOOGLE_METADATA, rows)))

    assert [key.rolling_start_interval_number for key in keys] == [2_650_000, 2_650_144]


def test_row_encoder_rejects_rows_out_of_order():
    rows = [as_row(key) for key in sorted(random_keys(3), key=_by_key_data, reverse=True)]

    with pytest.raises(ValueError, match="sorted"):
        b"".join(iter_export_bin_rows(GOOGLE_METADATA, rows))


@pytest.mark.parametrize("key_data", [bytes(15), bytes(17)])
def test_row_encoder_rejects_a_key_that_is_not_16_bytes(key_data):
    with pytest.raises(ValueError, match="16 bytes"):
        b"".join(iter_export_bin_rows(GOOGLE_METADATA, [(key_data, 2_650_000, 144, None, 1, 0)]))


@pytest.mark.parametrize("rolling_period", [0, 145])
def test_row_encoder_rejects_a_rolling_period_outside_1_to_144(rolling_period):
    with pytest.raises(ValueError, match="rolling_period"):
        b"".join(
            iter_export_bin_rows(
                GOOGLE_METADATA, [(bytes(16), 2_650_000, rolling_period, None, 1, None)]
            )
        )


def test_row_encoder_refuses_more_keys_than_a_file_may_hold(monkeypatch):
    monkeypatch.setattr(export, "MAX_KEYS_PER_FILE", 3)
    monkeypatch.setattr(export, "_KEYS_PER_CHUNK", 2)
    rows = sorted(as_row(key) for key in random_keys(4))

    with pytest.raises(ValueError, match="at most 3 keys"):
        b"".join(iter_export_bin_rows(GOOGLE_METADATA, rows))


# ---------------------------------------------------------------------- export.sig


@given(
    signatures=st.lists(
        st.builds(
            ExportSignature,
            signature_info=signature_infos,
            signature=st.binary(max_size=80),
            batch_num=INT32,
            batch_size=INT32,
        ),
        max_size=10,
    )
)
def test_signature_list_round_trips_in_order(signatures):
    assert decode_signature_list(encode_signature_list(signatures)) == signatures


def test_it_rejects_a_garbage_signature_list():
    with pytest.raises(ExportFormatError, match=r"export\.sig"):
        decode_signature_list(b"\x0a\xff\xff")


# ---------------------------------------------------------------------- zip


def test_the_zip_holds_export_bin_then_export_sig_with_fixed_timestamps():
    archive = zipfile.ZipFile(io.BytesIO(build_export_zip(b"bin", b"sig")))

    assert archive.namelist() == ["export.bin", "export.sig"]
    assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert read_export_zip(build_export_zip(b"bin", b"sig")) == (b"bin", b"sig")


def test_the_zip_is_the_same_bytes_every_time():
    export_bin = encode_export_bin(GOOGLE_METADATA, random_keys(100))

    assert build_export_zip(export_bin, b"sig") == build_export_zip(export_bin, b"sig")


def test_the_streamed_zip_is_byte_identical_to_the_one_shot_zip():
    keys = sorted(random_keys(10_000), key=_by_key_data)
    export_bin = encode_export_bin(GOOGLE_METADATA, keys)
    digests = []

    def make_export_sig(digest: bytes) -> bytes:
        digests.append(digest)
        return b"sig"

    out = io.BytesIO()
    write_export_zip(out, iter_export_bin(GOOGLE_METADATA, keys), make_export_sig)

    assert out.getvalue() == build_export_zip(export_bin, b"sig")
    assert digests == [hashlib.sha256(export_bin).digest()]


def test_it_reads_googles_zip():
    export_bin, export_sig = read_export_zip(google_zip())

    assert export_bin.startswith(EXPORT_BIN_HEADER)
    assert len(export_bin) == 135
    assert len(export_sig) == 115


def test_it_rejects_bytes_that_are_not_a_zip():
    with pytest.raises(ExportFormatError, match="Not a zip"):
        read_export_zip(b"EK Export v1    not a zip")


@pytest.mark.parametrize(
    "entries",
    [
        {"export.bin": b"bin"},
        {"export.bin": b"bin", "export.sig": b"sig", "extra.txt": b"x"},
        {"export.bin": b"bin", "signature.sig": b"sig"},
    ],
)
def test_it_rejects_a_zip_without_exactly_export_bin_and_export_sig(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)

    with pytest.raises(ExportFormatError, match=r"exactly export\.bin and export\.sig"):
        read_export_zip(buffer.getvalue())


def test_it_rejects_a_zip_whose_content_was_altered():
    zip_bytes = bytearray(build_export_zip(b"0123456789" * 10, b"sig"))
    # Stored bytes start after the 30-byte local header and the 10-byte name.
    zip_bytes[45] ^= 0xFF

    with pytest.raises(ExportFormatError, match="Corrupt"):
        read_export_zip(bytes(zip_bytes))


def test_it_rejects_a_zip_that_says_an_entry_is_encrypted():
    zip_bytes = bytearray(build_export_zip(b"bin", b"sig"))
    central_directory = zip_bytes.rindex(b"PK\x01\x02")  # the last entry: export.sig
    zip_bytes[central_directory + 8] |= 0x01  # general purpose flags: encrypted

    with pytest.raises(ExportFormatError, match="encrypted"):
        read_export_zip(bytes(zip_bytes))


def test_it_rejects_an_entry_bigger_than_any_export(monkeypatch):
    monkeypatch.setattr(export, "MAX_ENTRY_BYTES", 100)

    with pytest.raises(ExportFormatError, match="over the 100 limit"):
        read_export_zip(build_export_zip(bytes(101), b"sig"))


# ---------------------------------------------------------------------- purity


def test_the_codec_does_not_import_django():
    code = (
        "import sys, authority.formats.gaen.export, authority.formats.gaen.signing, "
        "authority.formats.gaen.inspect; "
        "sys.exit('django' in sys.modules)"
    )
    root = Path(__file__).parent.parent.parent

    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0


def _by_key_data(key: ExposureKey) -> bytes:
    return key.key_data
