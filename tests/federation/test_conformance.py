"""Our client against rules of the real gateway that the review of 2026-12 found missing: each rule, and that we meet it.

Sources: eu-federation-gateway-service/efgs-federation-gateway, src/main/java/eu/interop/
federationgateway/ (utils/CertificateUtils.java, controller/UploadController.java,
controller/DownloadController.java, config/ProtobufHttpMessageConverter.java) and
src/main/resources/db/changelog/ (the uploader columns).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from authority.federation import configuration, download, upload
from authority.federation.models import FederationRun, InboundChunk, OutboundBatch
from authority.formats.efgs.batch import PROTOBUF_MEDIA_TYPE
from authority.formats.efgs.signing import sign_batch, thumbprint, verify_batch_signature
from tests.federation.conftest import GatewayHandle, Pki, foreign_key
from tests.federation.pki import issue, issue_with_thumbprint_starting_00
from tests.federation.test_upload import _gateway_keys, _no_sleep, _offer


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


# -------------------------------------------------------------------- signatures (finding 6)


def test_a_signature_is_over_the_bytes_given_even_with_a_line_feed(tmp_path: Path) -> None:
    # Without PKCS7Options.Binary, cryptography signed "\r\n" where the data had "\n".
    signer = issue(None, common_name="Signing IT", country="IT", usage="sign")
    content = b"AAAA.BBBB.\nCC."
    signature = sign_batch(content, certificate=signer.certificate, private_key=signer.key)
    assert verify_batch_signature(content, signature).certificate == signer.certificate
    if shutil.which("openssl") is None:  # pragma: no cover - every CI machine has openssl
        return
    (tmp_path / "signature.der").write_bytes(base64.b64decode(signature))
    (tmp_path / "content").write_bytes(content)
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-noverify",
         "-in", str(tmp_path / "signature.der"), "-content", str(tmp_path / "content"),
         "-out", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------- thumbprints (finding 4)


def _zero_signer(pki: Pki) -> str:
    """A new German signing certificate whose SHA-256 begins with 00 (registered per test)."""
    name = f"de-zero-signing-{os.urandom(4).hex()}"
    pki.add(name, issue_with_thumbprint_starting_00(common_name="CWA signing", country="DE",
                                                      usage="sign"))  # fmt: skip
    return name


@pytest.mark.parametrize("purpose", ["TLS", "SIGNING"])
def test_a_certificate_whose_sha256_begins_with_00_is_refused_at_start_up(
    settings: Any, pki: Pki, tmp_path: Path, purpose: str
) -> None:
    settings.FEDERATION_GATEWAY_URL = "https://efgs.example.test"
    settings.FEDERATION_COUNTRY = "IT"
    settings.FEDERATION_TLS_CERT_FILE, settings.FEDERATION_TLS_KEY_FILE = pki.pair("it-tls")
    settings.FEDERATION_SIGNING_CERT_FILE, settings.FEDERATION_SIGNING_KEY_FILE = pki.pair(
        "it-signing"
    )
    settings.FEDERATION_TRUST_ANCHOR_FILE = pki.cert("trust-anchor")
    settings.FEDERATION_SERVER_CA_FILE = ""
    zero = issue_with_thumbprint_starting_00(
        common_name="Immuni", country="IT", usage="client" if purpose == "TLS" else "sign"
    )
    cert, key = zero.write(tmp_path, "zero")
    setattr(settings, f"FEDERATION_{purpose}_CERT_FILE", str(cert))
    setattr(settings, f"FEDERATION_{purpose}_KEY_FILE", str(key))

    with pytest.raises(ImproperlyConfigured) as refused:
        configuration.check_at_start_up()

    message = str(refused.value)
    assert f"FEDERATION_{purpose}_CERT_FILE" in message
    assert thumbprint(zero.certificate) in message
    assert "reissue the certificate" in message


def test_the_gateway_cannot_find_a_certificate_whose_sha256_begins_with_00(
    gateway: GatewayHandle, pki: Pki
) -> None:
    # CertificateUtils.calculateHash drops the leading zeros the operators' tool writes.
    name = _zero_signer(pki)
    gateway.register(name, "DE", "SIGNING")
    response = gateway.upload_as([foreign_key()], signer=name)
    assert response.status_code == 400
    assert "Invalid signature" in response.text


def test_a_part_whose_audit_thumbprint_lacks_leading_zeros_verifies(
    db: None, federation: GatewayHandle, pki: Pki
) -> None:
    # If the operators registered a country's certificate the way the gateway writes it (62
    # digits), its audit names it so: the same certificate as our 64 digits.
    name = _zero_signer(pki)
    short = format(int(thumbprint(pki[name].certificate), 16), "x")
    assert len(short) <= 62
    federation.register(name, "DE", "SIGNING", as_thumbprint=short)
    key = foreign_key()
    assert federation.upload_as([key], signer=name).status_code == 201
    federation.batch()

    run = download.run_download(sleep=_no_sleep)

    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    chunk = InboundChunk.objects.get()
    assert (chunk.verified, chunk.reason) == (True, "")
    assert run.keys_received == 1


# ------------------------------------------------------------ column limits (finding 5f)


def test_a_tag_longer_than_the_gateways_column_gets_a_207_of_409s(gateway: GatewayHandle) -> None:
    # varchar(64): every insert fails, and the insert loop files the failures as 409.
    response = gateway.upload_as([foreign_key(), foreign_key()], batch_tag="T" * 65)
    assert response.status_code == 207
    assert response.json() == {"201": [], "409": [0, 1], "500": []}
    assert gateway.state()["keys"] == []
    assert gateway.upload_as([foreign_key()], batch_tag="T" * 64).status_code == 201


def test_a_signature_longer_than_the_gateways_column_is_never_sent(
    db: None, federation: GatewayHandle, settings: Any, pki: Pki
) -> None:
    # Sent, it would be answered "already there" (a 207 of 409s) and its keys never shared.
    if "it-big-signing" not in pki.identities:
        pki.add("it-big-signing", issue(None, common_name="Immuni signing", country="IT",
                                        usage="sign", padding_bytes=6500))  # fmt: skip
    settings.FEDERATION_SIGNING_CERT_FILE, settings.FEDERATION_SIGNING_KEY_FILE = pki.pair(
        "it-big-signing"
    )
    _offer(2)

    run = upload.run_upload(sleep=_no_sleep)

    assert run is not None and run.status == FederationRun.Status.FAILED
    assert "keeps at most 8000" in run.message
    assert "FEDERATION_SIGNING_CERT_FILE" in run.message
    assert federation.state()["requests"] == []
    batch = OutboundBatch.objects.get()
    assert batch.status == OutboundBatch.Status.PENDING
    assert len(batch.batch_signature) > 8000


def test_our_batch_tags_and_signatures_fit_the_gateways_columns(
    db: None, federation: GatewayHandle
) -> None:
    _offer(3)
    run = upload.run_upload(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    batch = OutboundBatch.objects.get()
    assert len(batch.batch_tag) <= 64 and len(batch.batch_signature) <= 8000
    assert len(_gateway_keys(federation)) == 3


# ------------------------------------------------------ request rules (finding 5a-5e)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Accept": "application/protobuf"}, 406),  # produces = application/json
        ({"Accept": "text/plain"}, 406),
        ({"Accept": "application/json"}, 201),  # what our client sends
        ({"Accept": "*/*"}, 201),
        ({"Accept": "text/plain", "Content-Type": "text/plain; version=1.0"}, 415),  # 415 first
        ({"Content-Type": "application/protobuf; version=1"}, 400),  # not major.minor
        ({"Content-Type": "application/protobuf; version=1.0.0"}, 400),
        ({"Content-Type": "application/protobuf; version=x.y"}, 400),
        ({"Content-Type": "application/protobuf; version=2.0"}, 406),  # parsable, other
    ],
)
def test_upload_checks_accept_and_version_as_the_gateway_does(
    gateway: GatewayHandle, headers: dict[str, str], status: int
) -> None:
    from authority.formats.efgs.batch import batch_signing_bytes, encode_batch
    from tests.federation.conftest import openssl_sign

    keys = [foreign_key()]
    all_headers = {
        "Content-Type": PROTOBUF_MEDIA_TYPE,
        "batchTag": f"conformance-{status}-{len(str(headers))}-{datetime.now(UTC).timestamp()}",
        "batchSignature": openssl_sign(batch_signing_bytes(keys), gateway.pki, "de-signing"),
        **headers,
    }
    response = gateway.request(
        "POST", "/diagnosiskeys/upload", data=encode_batch(keys), headers=all_headers
    )
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "path", ["/diagnosiskeys/download/{day}", "/diagnosiskeys/audit/download/{day}/x"]
)
def test_a_date_in_the_path_must_be_yyyy_mm_dd(gateway: GatewayHandle, path: str) -> None:
    # @DateTimeFormat(iso = ISO.DATE): the basic form 20261203 is a 400, not a day.
    basic = _today().replace("-", "")
    headers = {"Accept": PROTOBUF_MEDIA_TYPE if "audit" not in path else "application/json"}
    assert gateway.request("GET", path.format(day=basic), headers=headers).status_code == 400


def test_download_answers_410_before_any_version_error(gateway: GatewayHandle) -> None:
    # The converter checks the version when it writes the body, after the controller.
    old = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    for accept in ("application/protobuf", "application/protobuf; version=2.0"):
        response = gateway.request(
            "GET", f"/diagnosiskeys/download/{old}", headers={"Accept": accept}
        )
        assert response.status_code == 410
    response = gateway.request(
        "GET", f"/diagnosiskeys/download/{_today()}", headers={"Accept": "application/protobuf"}
    )
    assert response.status_code == 404  # no batch yet: the controller answers first


def test_our_client_meets_every_request_rule_of_the_gateway(
    db: None, federation: GatewayHandle
) -> None:
    # Upload (Accept, version, tag, signature), download and audit (path dates, Accept).
    _offer(2)
    assert federation.upload_as([foreign_key()]).status_code == 201
    assert upload.run_upload(sleep=_no_sleep).status == FederationRun.Status.SUCCEEDED
    federation.batch()
    run = download.run_download(sleep=_no_sleep)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED, run.message
    statuses = {r["path"].split("/")[2]: r["status"] for r in federation.state()["requests"]}
    assert statuses == {"upload": 201, "download": 200, "audit": 200}
