import hashlib
import io
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from authority.formats.gaen.export import (
    ExportMetadata,
    ExportSignature,
    ExposureKey,
    SignatureInfo,
    build_export_zip,
    decode_export_bin,
    decode_signature_list,
    encode_export_bin,
    encode_signature_list,
    read_export_zip,
)
from authority.formats.gaen.signing import (
    SignatureOutcome,
    generate_private_key,
    load_private_key_pem,
    load_public_key_pem,
    make_signed_export,
    private_key_pem,
    public_key_pem,
    sign_export,
    sign_export_digest,
    verify_export,
    verify_export_zip,
    write_signed_export_zip,
    write_signed_export_zip_rows,
)

GOOGLE = Path(__file__).parent.parent / "data" / "gaen-google-example"
GOOGLE_INFO = SignatureInfo(verification_key_version="1", verification_key_id="some_id")
GOOGLE_METADATA = ExportMetadata(
    start_timestamp=1590159600,
    end_timestamp=1590246000,
    region="US",
    signature_infos=(GOOGLE_INFO,),
)
ITALY = ExportMetadata(start_timestamp=1_700_000_000, end_timestamp=1_700_086_400, region="222")


@pytest.fixture
def google_zip() -> bytes:
    return (GOOGLE / "testExport-2-records-1-of-1.zip").read_bytes()


@pytest.fixture
def google_private_key() -> ec.EllipticCurvePrivateKey:
    return load_private_key_pem((GOOGLE / "private.pem").read_bytes())


@pytest.fixture
def google_public_key() -> ec.EllipticCurvePublicKey:
    return load_public_key_pem((GOOGLE / "public.pem").read_bytes())


@pytest.fixture
def keys() -> list[ExposureKey]:
    rng = random.Random(7)
    return [
        ExposureKey(
            key_data=rng.randbytes(16),
            rolling_start_interval_number=2_833_000 + rng.randrange(2016),
            report_type=1,
            days_since_onset_of_symptoms=rng.randrange(-5, 10),
        )
        for _ in range(200)
    ]


def key_info(version: str) -> SignatureInfo:
    return SignatureInfo(verification_key_version=version, verification_key_id="222")


def with_export_bin(zip_bytes: bytes, export_bin: bytes) -> bytes:
    _, export_sig = read_export_zip(zip_bytes)
    return build_export_zip(export_bin, export_sig)


# ---------------------------------------------------------------------- Google's vector


def test_googles_export_verifies_with_googles_public_key(google_zip, google_public_key):
    verification = verify_export_zip(google_zip, {("some_id", "1"): google_public_key})

    assert verification.is_valid
    assert [check.outcome for check in verification.checks] == [SignatureOutcome.VALID]
    assert verification.problems == ()


def test_it_signs_with_googles_private_key_and_verifies_with_googles_public_key(
    google_zip, google_private_key, google_public_key
):
    googles_export_bin, _ = read_export_zip(google_zip)
    _, keys = decode_export_bin(googles_export_bin)

    zip_bytes = make_signed_export(GOOGLE_METADATA, keys, [(GOOGLE_INFO, google_private_key)])

    export_bin, export_sig = read_export_zip(zip_bytes)
    assert export_bin == googles_export_bin
    [signature] = decode_signature_list(export_sig)
    assert verify_export(export_bin, signature.signature, google_public_key)
    assert verify_export_zip(zip_bytes, {("some_id", "1"): google_public_key}).is_valid


def test_googles_key_pair_is_p256(google_private_key, google_public_key):
    assert isinstance(google_private_key.curve, ec.SECP256R1)
    assert public_key_pem(google_private_key) == public_key_pem(google_public_key)


# ---------------------------------------------------------------------- tampering


def test_it_rejects_a_tampered_export_bin(google_zip, google_public_key):
    export_bin, _ = read_export_zip(google_zip)
    tampered = bytearray(export_bin)
    tampered[-1] ^= 0x01  # the last key's rolling_period: still a well-formed file

    verification = verify_export_zip(
        with_export_bin(google_zip, bytes(tampered)), {("some_id", "1"): google_public_key}
    )

    assert not verification.is_valid
    assert [check.outcome for check in verification.checks] == [SignatureOutcome.INVALID]


def test_it_rejects_a_tampered_signature(google_zip, google_public_key):
    export_bin, export_sig = read_export_zip(google_zip)
    [signature] = decode_signature_list(export_sig)
    forged = bytearray(signature.signature)
    forged[10] ^= 0x01

    assert verify_export(export_bin, signature.signature, google_public_key)
    assert not verify_export(export_bin, bytes(forged), google_public_key)
    assert not verify_export(export_bin, b"not DER at all", google_public_key)


def test_it_rejects_a_signature_made_with_another_key(keys):
    our_key, their_key = generate_private_key(), generate_private_key()
    zip_bytes = make_signed_export(ITALY, keys, [(key_info("v1"), their_key)])

    verification = verify_export_zip(zip_bytes, {("222", "v1"): our_key.public_key()})

    assert not verification.is_valid
    assert verification.checks[0].outcome is SignatureOutcome.INVALID


def test_a_signature_by_an_unknown_key_does_not_make_an_export_valid(keys):
    zip_bytes = make_signed_export(ITALY, keys, [(key_info("v1"), generate_private_key())])

    verification = verify_export_zip(
        zip_bytes, {("222", "v2"): generate_private_key().public_key()}
    )

    assert not verification.is_valid
    assert verification.checks[0].outcome is SignatureOutcome.UNKNOWN_KEY


def test_a_signature_not_listed_in_export_bin_is_a_problem(keys):
    private_key = generate_private_key()
    export_bin = encode_export_bin(ITALY, keys)  # no signature_infos in export.bin
    export_sig = encode_signature_list(
        [ExportSignature(key_info("v1"), sign_export(export_bin, private_key))]
    )

    verification = verify_export_zip(
        build_export_zip(export_bin, export_sig), {("222", "v1"): private_key.public_key()}
    )

    assert verification.checks[0].outcome is SignatureOutcome.VALID
    assert not verification.is_valid
    assert "not listed in export.bin" in verification.problems[0]


def test_an_export_without_signatures_is_not_valid(keys):
    zip_bytes = build_export_zip(encode_export_bin(ITALY, keys), encode_signature_list([]))

    verification = verify_export_zip(zip_bytes, {})

    assert not verification.is_valid
    assert verification.problems == ("export.sig holds no signature.",)


# ---------------------------------------------------------------------- several signatures


def test_signatures_keep_the_order_given_newest_key_first(keys):
    signers = [(key_info(f"v{version}"), generate_private_key()) for version in (3, 2, 1)]

    zip_bytes = make_signed_export(ITALY, keys, signers)

    export_bin, export_sig = read_export_zip(zip_bytes)
    metadata, _ = decode_export_bin(export_bin)
    signatures = decode_signature_list(export_sig)
    assert [info.verification_key_version for info in metadata.signature_infos] == [
        "v3",
        "v2",
        "v1",
    ]
    assert [signature.signature_info for signature in signatures] == [info for info, _ in signers]
    for signature, (_, private_key) in zip(signatures, signers, strict=True):
        assert verify_export(export_bin, signature.signature, private_key.public_key())


def test_a_phone_that_knows_only_the_older_key_still_verifies(keys):
    new_key, old_key = generate_private_key(), generate_private_key()
    zip_bytes = make_signed_export(
        ITALY, keys, [(key_info("v2"), new_key), (key_info("v1"), old_key)]
    )

    verification = verify_export_zip(zip_bytes, {("222", "v1"): old_key.public_key()})

    assert verification.is_valid
    assert [check.outcome for check in verification.checks] == [
        SignatureOutcome.UNKNOWN_KEY,
        SignatureOutcome.VALID,
    ]


def test_signers_replace_signature_infos_already_in_the_metadata(keys):
    stale = ExportMetadata(1, 2, "222", signature_infos=(key_info("stale"),))

    zip_bytes = make_signed_export(stale, keys, [(key_info("v1"), generate_private_key())])

    metadata, _ = decode_export_bin(read_export_zip(zip_bytes)[0])
    assert metadata.signature_infos == (key_info("v1"),)


def test_it_takes_up_to_ten_signatures(keys):
    signers = [(key_info(f"v{n}"), generate_private_key()) for n in range(10)]

    zip_bytes = make_signed_export(ITALY, keys, signers)

    assert len(decode_signature_list(read_export_zip(zip_bytes)[1])) == 10


def test_it_refuses_more_than_ten_signatures(keys):
    signers = [(key_info(f"v{n}"), generate_private_key()) for n in range(11)]

    with pytest.raises(ValueError, match="at most 10"):
        make_signed_export(ITALY, keys, signers)


def test_it_refuses_to_build_an_unsigned_export(keys):
    with pytest.raises(ValueError, match="at least one"):
        make_signed_export(ITALY, keys, [])


# ---------------------------------------------------------------------- streaming


def test_the_streamed_signed_zip_has_the_same_export_bin_and_verifies(keys):
    signers = [(key_info("v2"), generate_private_key()), (key_info("v1"), generate_private_key())]
    sorted_keys = iter(sorted(keys, key=lambda key: key.key_data))

    out = io.BytesIO()
    write_signed_export_zip(out, ITALY, sorted_keys, signers)

    streamed_bin, streamed_sig = read_export_zip(out.getvalue())
    one_shot_bin, _ = read_export_zip(make_signed_export(ITALY, keys, signers))
    assert streamed_bin == one_shot_bin
    assert [s.signature_info for s in decode_signature_list(streamed_sig)] == [
        key_info("v2"),
        key_info("v1"),
    ]
    public_keys = {
        ("222", info.verification_key_version): key.public_key() for info, key in signers
    }
    verification = verify_export_zip(out.getvalue(), public_keys)
    assert [check.outcome for check in verification.checks] == [SignatureOutcome.VALID] * 2


def test_the_zip_streamed_from_rows_has_the_same_export_bin_and_verifies(keys):
    signers = [(key_info("v1"), generate_private_key())]
    rows = sorted(
        (
            key.key_data,
            key.rolling_start_interval_number,
            key.rolling_period,
            key.transmission_risk_level,
            key.report_type,
            key.days_since_onset_of_symptoms,
        )
        for key in keys
    )

    out = io.BytesIO()
    write_signed_export_zip_rows(out, ITALY, iter(rows), signers)

    streamed_bin, _ = read_export_zip(out.getvalue())
    assert streamed_bin == read_export_zip(make_signed_export(ITALY, keys, signers))[0]
    public_keys = {("222", "v1"): signers[0][1].public_key()}
    assert verify_export_zip(out.getvalue(), public_keys).is_valid


def test_signing_a_digest_verifies_like_signing_the_file(google_private_key, google_public_key):
    export_bin = b"EK Export v1    anything"

    signature = sign_export_digest(hashlib.sha256(export_bin).digest(), google_private_key)

    assert verify_export(export_bin, signature, google_public_key)


# ---------------------------------------------------------------------- keys


def test_a_generated_key_survives_a_pem_round_trip():
    private_key = generate_private_key()
    export_bin = b"EK Export v1    payload"

    reloaded_private = load_private_key_pem(private_key_pem(private_key))
    reloaded_public = load_public_key_pem(public_key_pem(private_key))

    assert public_key_pem(reloaded_private) == public_key_pem(private_key)
    assert verify_export(export_bin, sign_export(export_bin, reloaded_private), reloaded_public)
    assert public_key_pem(private_key).startswith(b"-----BEGIN PUBLIC KEY-----")


def test_it_refuses_keys_on_another_curve():
    p384 = ec.generate_private_key(ec.SECP384R1())
    private_pem = p384.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public_pem = p384.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    with pytest.raises(ValueError, match="P-256"):
        load_private_key_pem(private_pem)
    with pytest.raises(ValueError, match="P-256"):
        load_public_key_pem(public_pem)


def test_signatures_are_der_encoded(google_private_key):
    signature = sign_export(b"EK Export v1    payload", google_private_key)

    # DER: SEQUENCE, length, then two INTEGERs.
    assert signature[0] == 0x30
    assert signature[1] == len(signature) - 2
    assert signature[2] == 0x02
