"""Property-based fuzzing of the GAEN decoders: whatever bytes they get, they either decode or
raise ExportFormatError — never another exception, which would surface as a crash in
`inspect_batch`, in verifying stored batches or in any tool reading files from elsewhere."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from authority.formats.gaen.export import (
    EXPORT_BIN_HEADER,
    ExportFormatError,
    ExportMetadata,
    ExposureKey,
    SignatureInfo,
    decode_export_bin,
    decode_signature_list,
    read_export_zip,
)
from authority.formats.gaen.signing import (
    generate_private_key,
    make_signed_export,
    verify_export_zip,
)

INFO = SignatureInfo(verification_key_version="v1", verification_key_id="222")
PRIVATE_KEY = generate_private_key()
NOW = int(time.time())
VALID_ZIP = make_signed_export(
    ExportMetadata(start_timestamp=NOW - 86_400, end_timestamp=NOW, region="222"),
    [
        ExposureKey(key_data=bytes([n]) * 16, rolling_start_interval_number=2_900_000)
        for n in range(5)
    ],
    [(INFO, PRIVATE_KEY)],
)
PUBLIC_KEYS = {("222", "v1"): PRIVATE_KEY.public_key()}


def decodes_or_refuses(decode, data: bytes) -> None:
    try:
        decode(data)
    except ExportFormatError as error:
        assert str(error)


@given(st.binary(max_size=2_000))
def test_export_bin_decoder_takes_any_bytes_after_the_header(data):
    decodes_or_refuses(decode_export_bin, EXPORT_BIN_HEADER + data)


@given(st.binary(max_size=2_000))
def test_export_bin_decoder_takes_any_bytes(data):
    decodes_or_refuses(decode_export_bin, data)


@given(st.binary(max_size=2_000))
def test_signature_list_decoder_takes_any_bytes(data):
    decodes_or_refuses(decode_signature_list, data)


@given(st.binary(max_size=2_000))
def test_zip_reader_takes_any_bytes(data):
    decodes_or_refuses(read_export_zip, data)


@settings(max_examples=200)
@given(st.lists(st.tuples(st.integers(0, len(VALID_ZIP) - 1), st.integers(0, 255)), max_size=8))
def test_a_damaged_export_never_verifies_and_never_crashes(damage):
    data = bytearray(VALID_ZIP)
    for position, value in damage:
        data[position] = value
    try:
        verification = verify_export_zip(bytes(data), PUBLIC_KEYS)
    except ExportFormatError:
        return
    assert verification.is_valid == (bytes(data) == VALID_ZIP) or _only_zip_metadata_changed(
        bytes(data)
    )


def _only_zip_metadata_changed(data: bytes) -> bool:
    """Some zip header bytes (timestamps, extra fields) are not covered by the signature."""
    export_bin, export_sig = read_export_zip(data)
    return (export_bin, export_sig) == read_export_zip(VALID_ZIP)
