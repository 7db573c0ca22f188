"""The test gateway refuses what the real one refuses: each rule shown once, with the gateway's test it comes from.

Sources: eu-federation-gateway-service/efgs-federation-gateway, src/test/java/eu/interop/
federationgateway/ (controller/UploadControllerTest.java, controller/DownloadControllerTest.java,
controller/AuditControllerTest.java, filter/CertAuthFilterTest.java) and the security chapter
of docs/software-design-federation-gateway-service.md.
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime, timedelta

import pytest
import requests

from authority.formats.efgs.batch import (
    JSON_MEDIA_TYPE,
    PROTOBUF_MEDIA_TYPE,
    DiagnosisKey,
    batch_signing_bytes,
    decode_batch,
    decode_batch_json,
    encode_batch_json,
)
from tests.federation.conftest import GatewayHandle, foreign_key, openssl_sign


def _keys(count: int, origin: str = "DE") -> list[DiagnosisKey]:
    return [foreign_key(origin=origin, visited=("IT", "FR")) for _ in range(count)]


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


# ------------------------------------------------------------------ client authentication


@pytest.mark.parametrize("client", ["none", "untrusted-tls", "expired-tls"])
def test_tls_refuses_a_missing_untrusted_or_expired_client_certificate(
    gateway: GatewayHandle, client: str
) -> None:
    # SecReq-004, -005, -007: the load balancer rejects the request before any HTTP.
    with pytest.raises(requests.exceptions.ConnectionError):
        gateway.request("GET", f"/diagnosiskeys/download/{_today()}", client=client)


def test_efgs_upload_controller_request_upload_keys_in_protobuf_format_failed_by_trusted_anchor(
    gateway: GatewayHandle,
) -> None:
    # UploadControllerTest.testRequestUploadKeysInProtobufFormatFailedByTrustedAnchor: a
    # certificate the TLS layer trusts but the registry does not know is 403.
    response = gateway.upload_as(_keys(1, "IT"), client="it-unregistered-tls", signer="it-signing")
    assert response.status_code == 403


def test_a_certificate_registered_under_its_key_but_not_vouched_for_by_the_trust_anchor_is_403(
    gateway: GatewayHandle,
) -> None:
    # CertificateService.validateCertificateIntegrity: a row the trust anchor did not sign
    # does not count.
    gateway.register("it-unregistered-tls", "IT", "AUTHENTICATION", signed_by="tls-ca")
    response = gateway.request("GET", f"/diagnosiskeys/download/{_today()}", client="it-unregistered-tls",
                               headers={"Accept": PROTOBUF_MEDIA_TYPE})  # fmt: skip
    assert response.status_code == 403


def test_a_client_certificate_without_country_is_400(gateway: GatewayHandle) -> None:
    # CertificateAuthentificationFilter: "Client Certificate must contain country property".
    response = gateway.request(
        "GET", f"/diagnosiskeys/download/{_today()}", client="no-country-tls"
    )
    assert response.status_code == 400


def test_a_revoked_client_certificate_is_403(gateway: GatewayHandle) -> None:
    from authority.formats.efgs.signing import thumbprint

    gateway.admin("/admin/revoke", {"thumbprint": thumbprint(gateway.pki["de-tls"].certificate)})
    response = gateway.request("GET", f"/diagnosiskeys/download/{_today()}",
                               headers={"Accept": PROTOBUF_MEDIA_TYPE})  # fmt: skip
    assert response.status_code == 403


# ---------------------------------------------------------------------------------- upload


def test_efgs_upload_controller_request_upload_keys_in_protobuf_format(
    gateway: GatewayHandle,
) -> None:
    # UploadControllerTest.testRequestUploadKeysInProtobufFormat
    response = gateway.upload_as(_keys(3), batch_tag="DE-1")
    assert response.status_code == 201
    assert response.headers["batchTag"] == "DE-1"
    assert len(gateway.state()["keys"]) == 3


def test_efgs_upload_controller_request_upload_keys_in_json_format(gateway: GatewayHandle) -> None:
    # UploadControllerTest.testRequestUploadKeysInJsonFormat
    keys = _keys(3)
    response = gateway.request(
        "POST", "/diagnosiskeys/upload", data=encode_batch_json(keys),
        headers={"Content-Type": JSON_MEDIA_TYPE, "batchTag": "DE-json",
                 "batchSignature": openssl_sign(batch_signing_bytes(keys), gateway.pki, "de-signing")},
    )  # fmt: skip
    assert response.status_code == 201
    assert len(gateway.state()["keys"]) == 3


def test_efgs_upload_controller_request_should_fail_on_missing_batch_signature(
    gateway: GatewayHandle,
) -> None:
    # UploadControllerTest.testRequestShouldFailOnMissingBatchSignature
    response = gateway.request("POST", "/diagnosiskeys/upload", data=b"\x00",
                               headers={"Content-Type": PROTOBUF_MEDIA_TYPE, "batchTag": "t"})  # fmt: skip
    assert response.status_code == 400


def test_efgs_upload_controller_request_should_fail_on_invalid_batch_signature(
    gateway: GatewayHandle,
) -> None:
    # UploadControllerTest.testRequestShouldFailOnInvalidBatchSignature
    response = gateway.upload_as(_keys(3), signature="invalidSignature")
    assert response.status_code == 400
    assert gateway.state()["keys"] == []


def test_a_signature_over_other_keys_is_400(gateway: GatewayHandle) -> None:
    signature = openssl_sign(batch_signing_bytes(_keys(3)), gateway.pki, "de-signing")
    assert gateway.upload_as(_keys(3), signature=signature).status_code == 400


def test_a_signing_certificate_that_is_not_registered_is_400(gateway: GatewayHandle) -> None:
    # SecReq-026 step 6: the signing certificate must be registered for the country.
    response = gateway.upload_as(_keys(2, "IT"), client="it-tls", signer="it-unregistered-signing")
    assert response.status_code == 400


def test_efgs_upload_controller_request_upload_keys_in_protobuf_format_with_modified_cert_database(
    gateway: GatewayHandle,
) -> None:
    # UploadControllerTest...WithModifiedCertDatabase: keys of another origin than the
    # uploader's certificate country are refused, even with a valid signature for them.
    response = gateway.upload_as(_keys(2, "FR"), client="de-tls", signer="fr-signing")
    assert response.status_code == 400
    assert gateway.state()["keys"] == []


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/protobuf; version=2.0", 406),  # readInternal: incompatible version
        ("application/protobuf; version=1.1", 406),
        ("application/protobuf", 400),  # readInternal: version required
        ("text/plain; version=1.0", 415),  # consumes: neither protobuf nor JSON
    ],
)
def test_content_type_and_version_are_negotiated_as_the_gateway_does(
    gateway: GatewayHandle, content_type: str, status: int
) -> None:
    assert gateway.upload_as(_keys(1), content_type=content_type).status_code == status


def test_efgs_upload_controller_request_size_maximum_and_too_large(gateway: GatewayHandle) -> None:
    # UploadControllerTest.testRequestSizeMaximum / testRequestSizeTooLarge (5,000 keys).
    gateway.settings(upload_limit=20)  # the same rule, with a smaller limit to keep it quick
    assert gateway.upload_as(_keys(21)).status_code == 413
    assert gateway.upload_as(_keys(20)).status_code == 201


def test_efgs_upload_controller_request_upload_keys_existing_batch_tag(
    gateway: GatewayHandle,
) -> None:
    # UploadControllerTest.testRequestUploadKeysExistingBatchTag
    assert gateway.upload_as(_keys(1), batch_tag="same").status_code == 201
    response = gateway.upload_as(_keys(1), batch_tag="same")
    assert response.status_code == 409
    assert len(gateway.state()["keys"]) == 1


def test_efgs_upload_controller_request_upload_keys_existing_hash_in_protobuf_format(
    gateway: GatewayHandle,
) -> None:
    # UploadControllerTest.testRequestUploadKeysExistingHashInProtobufFormat: a key already
    # stored makes the batch a 207 with each key's fate, and nothing of it is kept.
    first = _keys(1)
    assert gateway.upload_as(first).status_code == 201
    response = gateway.upload_as([first[0], *_keys(1)])
    assert response.status_code == 207
    assert response.json() == {"201": [1], "409": [0], "500": []}
    assert len(gateway.state()["keys"]) == 1


def test_an_invalid_key_refuses_the_whole_batch(gateway: GatewayHandle) -> None:
    # DiagnosisKeyBatchValidator: rolling period 1..144, key 16 bytes, start in the window.
    bad = foreign_key(rolling_period=0)
    assert gateway.upload_as([*_keys(2), bad]).status_code == 400
    too_old = foreign_key(days_ago=16)
    assert gateway.upload_as([too_old]).status_code == 400
    assert gateway.state()["keys"] == []


# -------------------------------------------------------------------------------- download


def _download(gateway: GatewayHandle, day: str, tag: str | None = None, *,
              client: str = "fr-tls", accept: str = PROTOBUF_MEDIA_TYPE) -> requests.Response:  # fmt: skip
    headers = {"Accept": accept}
    if tag:
        headers["batchTag"] = tag
    return gateway.request("GET", f"/diagnosiskeys/download/{day}", client=client, headers=headers)


def test_efgs_download_controller_request_should_return_next_batch_tag(
    gateway: GatewayHandle,
) -> None:
    # DownloadControllerTest.testRequestShouldReturnNextBatchTag and ...NullIfNoFurtherBatchExists
    gateway.settings(doclimit=2)
    for _ in range(2):
        assert gateway.upload_as(_keys(2)).status_code == 201
    first, second = gateway.batch()
    response = _download(gateway, _today(), first)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == PROTOBUF_MEDIA_TYPE
    assert (response.headers["batchTag"], response.headers["nextBatchTag"]) == (first, second)
    assert _download(gateway, _today(), second).headers["nextBatchTag"] == "null"
    # Without a tag: the first batch of the day.
    assert _download(gateway, _today()).headers["batchTag"] == first


def test_efgs_download_controller_request_should_not_return_keys_from_own_country(
    gateway: GatewayHandle,
) -> None:
    # DownloadControllerTest.testRequestShouldNotReturnKeysFromOwnCountry
    gateway.upload_as(_keys(2, "DE"))
    gateway.upload_as(_keys(3, "FR"), client="fr-tls", signer="fr-signing")
    (tag,) = gateway.batch()
    keys = decode_batch(_download(gateway, _today(), tag, client="fr-tls").content)
    assert {key.origin for key in keys} == {"DE"} and len(keys) == 2


def test_efgs_download_controller_request_should_return_keys_in_json_format(
    gateway: GatewayHandle,
) -> None:
    # DownloadControllerTest.testRequestShouldReturnKeysInJsonFormat
    gateway.upload_as(_keys(2))
    (tag,) = gateway.batch()
    response = _download(gateway, _today(), tag, accept=JSON_MEDIA_TYPE)
    assert response.headers["Content-Type"] == JSON_MEDIA_TYPE
    assert len(decode_batch_json(response.content)) == 2


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("application/protobuf", 415),
        ("application/protobuf; version=2.0", 415),
        ("text/plain", 406),
    ],
)
def test_download_negotiates_accept_and_version(
    gateway: GatewayHandle, accept: str, status: int
) -> None:
    gateway.upload_as(_keys(1))
    gateway.batch()
    assert _download(gateway, _today(), accept=accept).status_code == status


def test_efgs_download_controller_request_should_fail_if_requested_date_is_too_old(
    gateway: GatewayHandle,
) -> None:
    # DownloadControllerTest.testRequestShouldFailIfRequestedDateIsToOld (max age 2 days)
    old = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    assert _download(gateway, old).status_code == 410


def test_efgs_download_controller_request_should_fail_if_batch_tag_does_not_exist(
    gateway: GatewayHandle,
) -> None:
    # DownloadControllerTest.testRequestShouldFailIfBatchTagDoesNotExists; and no batch at all.
    assert _download(gateway, _today(), "xxx").status_code == 404
    assert _download(gateway, _today()).status_code == 404


def test_efgs_download_controller_request_should_fail_if_batch_tag_and_date_does_not_match(
    gateway: GatewayHandle,
) -> None:
    # DownloadControllerTest.testRequestShouldFailIfBatchTagAndDateDoesNotMatch: a batch
    # older than the day asked for is 400.
    yesterday = datetime.now(UTC) - timedelta(days=1)
    gateway.set_clock(yesterday)
    gateway.upload_as([foreign_key(days_ago=3)])
    (tag,) = gateway.batch()
    gateway.set_clock(None)
    assert _download(gateway, _today(), tag).status_code == 400
    assert _download(gateway, yesterday.date().isoformat(), tag).status_code == 200


# ----------------------------------------------------------------------------------- audit


def test_efgs_audit_controller_get_audit_information(gateway: GatewayHandle) -> None:
    # AuditControllerTest.testGetAuditInformation: one entry per upload, with the amounts,
    # the batch signature and the certificates with the trust anchor's signatures.
    gateway.upload_as(_keys(2))
    gateway.upload_as(_keys(3, "FR"), client="fr-tls", signer="fr-signing")
    (tag,) = gateway.batch()
    response = gateway.request("GET", f"/diagnosiskeys/audit/download/{_today()}/{tag}",
                               headers={"Accept": "application/json"})  # fmt: skip
    assert response.status_code == 200
    entries = response.json()
    assert [(e["country"], e["amount"]) for e in entries] == [("DE", 2), ("FR", 3)]
    assert entries[0]["signingCertificate"] == gateway.pki["de-signing"].cert_pem
    assert base64.b64decode(entries[0]["signingCertificateOperatorSignature"])


def test_efgs_audit_controller_request_should_fail_if_batch_tag_does_not_exist_or_date_differs(
    gateway: GatewayHandle,
) -> None:
    # AuditControllerTest.testRequestShouldFailIfBatchTagDoesNotExists / ...NoEntityExistForDate
    gateway.upload_as(_keys(1))
    (tag,) = gateway.batch()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    path = "/diagnosiskeys/audit/download/{}/{}"
    assert gateway.request("GET", path.format(_today(), "nope")).status_code == 404
    assert gateway.request("GET", path.format(yesterday, tag)).status_code == 404
    old = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
    assert gateway.request("GET", path.format(old, tag)).status_code == 410


def test_batching_keeps_uploads_whole_and_links_batches(gateway: GatewayHandle) -> None:
    # TransactionalDiagnosisKeyBatchService: uploads are never split; batches are chained.
    gateway.settings(doclimit=5)
    for size in (3, 3, 2):
        gateway.upload_as(_keys(size), batch_tag=f"u-{size}-{os.urandom(2).hex()}")
    batches = gateway.batch()
    assert len(batches) == 2
    state = gateway.state()
    assert [b["link"] for b in state["batches"]] == [batches[1], None]
    per_batch = {
        tag: {k["upload_tag"] for k in state["keys"] if k["batch_tag"] == tag} for tag in batches
    }
    assert [len(uploads) for uploads in per_batch.values()] == [1, 2]
