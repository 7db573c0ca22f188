from pathlib import Path

import pytest

from authority.formats.gaen.export import (
    ExportFormatError,
    ExportMetadata,
    ExposureKey,
    SignatureInfo,
    build_export_zip,
    encode_export_bin,
    read_export_zip,
)
from authority.formats.gaen.inspect import describe_export
from authority.formats.gaen.signing import generate_private_key, make_signed_export, public_key_pem

GOOGLE = Path(__file__).parent.parent / "data" / "gaen-google-example"

# 2023-11-14 00:00 UTC is interval 2833200 (1699920000 / 600).
DAY_ONE = 2_833_200
DAY_TWO = DAY_ONE + 144


@pytest.fixture
def google_zip() -> bytes:
    return (GOOGLE / "testExport-2-records-1-of-1.zip").read_bytes()


@pytest.fixture
def google_public_pem() -> bytes:
    return (GOOGLE / "public.pem").read_bytes()


def italian_export(signing_key) -> bytes:
    keys = [
        ExposureKey(bytes([1] * 16), DAY_ONE, report_type=1),
        ExposureKey(bytes([2] * 16), DAY_ONE + 10, report_type=1),
        ExposureKey(bytes([3] * 16), DAY_TWO, report_type=3),
        ExposureKey(bytes([4] * 16), DAY_TWO + 143),
    ]
    metadata = ExportMetadata(
        start_timestamp=1_700_000_000, end_timestamp=1_700_003_600, region="IT"
    )
    info = SignatureInfo(verification_key_version="v1", verification_key_id="222")
    return make_signed_export(metadata, keys, [(info, signing_key)])


def test_it_describes_googles_export(google_zip, google_public_pem):
    report = describe_export(google_zip, google_public_pem)

    assert "header:          'EK Export v1    '" in report
    assert "start_timestamp: 1590159600 (2020-05-22 15:00:00 UTC)" in report
    assert "end_timestamp:   1590246000 (2020-05-23 15:00:00 UTC)" in report
    assert "region:          'US'" in report
    assert "batch:           1 of 1" in report
    assert "key id 'some_id', version '1', algorithm 1.2.840.10045.4.3.2" in report
    assert "Keys: 2\n" in report
    assert "    not set: 2\n" in report
    assert "    2020-05-19: 1\n    2020-05-20: 1\n" in report
    assert "72 bytes: verifies" in report
    assert report.endswith("Signature: verified with the given public key (signature 1)\n")


def test_it_says_not_checked_without_a_public_key(google_zip):
    report = describe_export(google_zip)

    assert "1 of 1, 72 bytes: not checked" in report
    assert report.endswith("Signature: not checked (no public key given)\n")


def test_it_says_not_verified_with_another_public_key(google_zip):
    other_pem = public_key_pem(generate_private_key())

    report = describe_export(google_zip, other_pem)

    assert "does not verify with the given key" in report
    assert "Signature: NOT VERIFIED" in report


def test_it_says_not_verified_when_export_bin_was_tampered(google_zip, google_public_pem):
    export_bin, export_sig = read_export_zip(google_zip)
    tampered = export_bin[:-1] + bytes([export_bin[-1] ^ 1])

    report = describe_export(build_export_zip(tampered, export_sig), google_public_pem)

    assert "Signature: NOT VERIFIED" in report


def test_it_counts_keys_by_report_type_and_by_utc_date():
    signing_key = generate_private_key()

    report = describe_export(italian_export(signing_key), public_key_pem(signing_key))

    assert "Keys: 4\n" in report
    assert "    not set: 1\n    CONFIRMED_TEST: 2\n    SELF_REPORT: 1\n" in report
    assert "    2023-11-14: 2\n    2023-11-15: 2\n" in report
    assert "key id '222', version 'v1'" in report
    assert "Signature: verified with the given public key (signature 1)" in report


def test_it_reports_a_signature_missing_from_export_bin(google_zip, google_public_pem):
    _, googles_export_sig = read_export_zip(google_zip)
    export_bin = encode_export_bin(ExportMetadata(0, 0, "US"), [])

    report = describe_export(build_export_zip(export_bin, googles_export_sig), google_public_pem)

    assert "Signature infos in export.bin: 0" in report
    assert (
        "Problem: Signature by key id 'some_id' version '1' is not listed in export.bin." in report
    )


def test_it_rejects_a_file_that_is_not_an_export():
    with pytest.raises(ExportFormatError):
        describe_export(b"definitely not a zip")


def test_it_rejects_a_public_key_that_is_not_p256(google_zip):
    with pytest.raises(ValueError):
        describe_export(google_zip, b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
