"""The test gateway's state and rules, written from the EFGS gateway's public source and specification.

Each rule names where it comes from in eu-federation-gateway-service/efgs-federation-gateway
(controllers, filter, validator, services). Signatures are checked by OpenSSL's `cms`
command, an implementation independent of the client's (the gateway uses BouncyCastle).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from authority.formats.efgs.batch import (
    TRANSMISSION_RISK_LEVEL_NOT_SET,
    BatchFormatError,
    DiagnosisKey,
    batch_signing_bytes,
    decode_batch,
    decode_batch_json,
    encode_batch,
    encode_batch_json,
    key_signing_bytes,
)
from authority.formats.efgs.signing import (
    certificate_country,
    thumbprint,
    verify_trust_anchor_signature,
)

# The uploader information columns (db/changelog v000 diagnosis-key-entity-table, v003).
TAG_COLUMN = 64
SIGNATURE_COLUMN = 8000


class GatewayError(Exception):
    """An answer other than success: the status and the gateway's `{"message": ...}` body."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RegisteredCertificate:
    """A row of the gateway's `certificate` table (SecReq-028)."""

    thumbprint: str
    country: str
    type: str  # AUTHENTICATION, SIGNING, CALLBACK
    raw_pem: str
    signature: str  # the trust anchor's signature on raw_pem
    revoked: bool = False


@dataclass
class StoredKey:
    id: int
    created_at: datetime
    payload: DiagnosisKey
    payload_hash: str
    upload_tag: str
    uploader_country: str
    uploader_thumbprint: str
    signing_thumbprint: str
    batch_signature: str
    batch_tag: str | None = None


@dataclass
class DownloadBatch:
    name: str
    created_at: datetime
    link: str | None = None


@dataclass
class CallbackSubscription:
    callback_id: str
    url: str
    country: str


# CallbackService.checkUrl: callbacks never go to these networks.
_PRIVATE_NETWORKS = [
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8", "127.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12",
        "192.168.0.0/16", "::1/128", "fc00::/7", "0.0.0.0/32", "::/128",
    )
]  # fmt: skip


@dataclass
class Gateway:
    trust_anchor: x509.Certificate
    max_age_days: int = 2  # efgs.download-settings.max-age-in-days
    upload_limit: int = 5000  # efgs.upload-settings.maximum-upload-batch-size
    doclimit: int = 5000  # efgs.batching.doclimit
    certificates: list[RegisteredCertificate] = field(default_factory=list)
    keys: list[StoredKey] = field(default_factory=list)
    batches: list[DownloadBatch] = field(default_factory=list)
    fixed_now: datetime | None = None
    faults: dict[str, list[str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[CallbackSubscription] = field(default_factory=list)
    # The one relaxation of the test gateway: hosts whose private addresses it accepts as
    # callback targets (tests can only listen on this machine). Empty: the gateway's rule.
    callback_hosts_allowed: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)
    next_id: int = 1

    # ------------------------------------------------------------------------- the clock

    def now(self) -> datetime:
        return self.fixed_now or datetime.now(UTC)

    def take_fault(self, endpoint: str) -> str | None:
        with self.lock:
            queue = self.faults.get(endpoint) or []
            return queue.pop(0) if queue else None

    # ---------------------------------------------------------- client authentication

    def authenticate(self, peer_der: bytes | None) -> tuple[str, str]:
        """CertificateAuthentificationFilter: (country, thumbprint) of a registered client.

        The TLS layer (the load balancer, SecReq-002..007) already refused a missing,
        expired or untrusted certificate; here the registry decides (SecReq-013).
        """
        if not peer_der:
            raise GatewayError(403, "")
        certificate = x509.load_der_x509_certificate(peer_der)
        country = certificate_country(certificate)
        if country is None:
            raise GatewayError(400, "Client Certificate must contain country property")
        registered = self.registered(gateway_thumbprint(certificate), country, "AUTHENTICATION")
        if registered is None:
            raise GatewayError(403, "Client is not authorized to access the service")
        if registered.revoked:
            raise GatewayError(403, "Client certificate is revoked")
        return country, registered.thumbprint

    def registered(self, print_: str, country: str, type_: str) -> RegisteredCertificate | None:
        """CertificateService.getCertificate: the row, only if the trust anchor signed it."""
        for row in self.certificates:
            if (row.thumbprint, row.country, row.type) != (print_, country, type_):
                continue
            if not verify_trust_anchor_signature(row.raw_pem, row.signature, self.trust_anchor):
                return None
            parsed = x509.load_pem_x509_certificate(row.raw_pem.encode())
            if gateway_thumbprint(parsed) != row.thumbprint:
                return None
            return row
        return None

    # ------------------------------------------------------------------------ upload

    def upload(
        self,
        *,
        country: str,
        client_thumbprint: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        """UploadController.uploadDiagnosisKeys, with Spring's checks in their order."""
        content_type = headers.get("content-type", "")
        media, version = _media_type(content_type)
        # consumes = {application/protobuf, application/json}: anything else is 415.
        if media not in ("application/protobuf", "application/json"):
            raise GatewayError(415, "Content type not supported")
        # produces = application/json (UploadController): Spring's 406 comes after the 415.
        if not _accepts_json(headers.get("accept")):
            raise GatewayError(406, "Could not find acceptable representation")
        batch_tag = headers.get("batchtag")
        signature = headers.get("batchsignature")
        if batch_tag is None:
            raise GatewayError(400, "Required header 'batchTag' is not present.")
        if signature is None:
            raise GatewayError(400, "Required header 'batchSignature' is not present.")
        # ProtobufHttpMessageConverter.readInternal: the version is required and must be 1.0.
        if version is None:
            raise GatewayError(400, "Version parameter of Content-Type is required!")
        parsed_version = _parse_version(version)
        if parsed_version is None:
            # SemVerUtils.parseSemVer's exception, turned into 400 by readInternal.
            raise GatewayError(400, "Version can just contain a major and minor version")
        if parsed_version != (1, 0):
            raise GatewayError(406, "Protocol version is not compatible!")
        try:
            keys = (
                decode_batch(body) if media == "application/protobuf" else decode_batch_json(body)
            )
        except BatchFormatError as error:
            raise GatewayError(400, str(error)) from error
        # DiagnosisKeyBatchValidator (@DiagnosisKeyBatchConstraint): a bad key refuses all.
        reason = self._invalid_key(keys)
        if reason:
            raise GatewayError(
                400, f"uploadDiagnosisKeys.body: Validation of diagnosis key failed: {reason}"
            )
        if len(keys) > self.upload_limit:
            raise GatewayError(413, "Too many diagnosis keys")
        with self.lock:
            if any(key.upload_tag == batch_tag for key in self.keys):
                raise GatewayError(409, "BatchTag already exists.")
        signing_thumbprint = self._check_batch_signature(keys, signature)
        if signing_thumbprint is None:
            raise GatewayError(400, "Invalid signature")
        if any(key.origin != country for key in keys):
            raise GatewayError(400, "One or more keys are not originated from uploader country")
        with self.lock:
            # DiagnosisKeyEntityService.saveDiagnosisKeyEntities: one transaction; any key
            # whose payload hash exists (duplicates within the batch too) makes it a 207
            # and the transaction rolls back: nothing of the batch is kept.
            seen = {key.payload_hash for key in self.keys}
            result: dict[str, list[int]] = {"201": [], "409": [], "500": []}
            hashes: list[str] = []
            for index, key in enumerate(keys):
                payload_hash = hashlib.sha256(key_signing_bytes(key)).hexdigest()
                if payload_hash in seen:
                    result["409"].append(index)
                else:
                    result["201"].append(index)
                    seen.add(payload_hash)
                hashes.append(payload_hash)
            if len(batch_tag) > TAG_COLUMN or len(signature) > SIGNATURE_COLUMN:
                # Every insert fails on the varchar(64) / varchar(8000) columns; the loop
                # files a DataIntegrityViolationException as 409 (DiagnosisKeyEntityService).
                result = {"201": [], "409": list(range(len(keys))), "500": []}
            if result["409"]:
                return 207, {"Content-Type": "application/json"}, json.dumps(result).encode()
            created = self.now()
            for key, payload_hash in zip(keys, hashes, strict=True):
                self.keys.append(
                    StoredKey(
                        id=self.next_id,
                        created_at=created,
                        payload=key,
                        payload_hash=payload_hash,
                        upload_tag=batch_tag,
                        uploader_country=country,
                        uploader_thumbprint=client_thumbprint,
                        signing_thumbprint=signing_thumbprint,
                        batch_signature=signature,
                    )
                )
                self.next_id += 1
        return 201, {"batchTag": batch_tag}, b""

    def _invalid_key(self, keys: list[DiagnosisKey]) -> str | None:
        now = self.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        minimum = int((midnight - timedelta(days=15)).timestamp()) // 600
        maximum = int(now.timestamp()) // 600 + 1
        for key in keys:
            if not key.key_data:
                return "The keydata is empty or null."
            if len(key.key_data) != 16:
                return "The keydata is not 16 bytes."
            if not minimum <= key.rolling_start_interval_number <= maximum:
                return "Invalid rolling start interval number."
            if not 1 <= key.rolling_period <= 144:
                return "Invalid rolling period."
            level = key.transmission_risk_level
            if not 0 <= level <= 8 and level != TRANSMISSION_RISK_LEVEL_NOT_SET:
                return "Invalid transmission risk level."
        return None

    def _check_batch_signature(self, keys: list[DiagnosisKey], signature: str) -> str | None:
        """BatchSignatureVerifier.checkBatchSignature: the signing certificate's thumbprint or None."""
        try:
            der = base64.b64decode(signature, validate=True)
        except ValueError:
            return None
        if not der:
            return None
        signer = _cms_signer(batch_signing_bytes(keys), der)
        if signer is None:
            return None
        now = self.now()
        if not signer.not_valid_before_utc < now < signer.not_valid_after_utc:
            return None
        country = certificate_country(signer)
        if country is None:
            return None
        registered = self.registered(gateway_thumbprint(signer), country, "SIGNING")
        if registered is None or registered.revoked:
            return None
        if not all(key.origin == country for key in keys):
            return None
        return registered.thumbprint

    def clean_up(self) -> int:
        """DiagnosisKeyCleanupService (cron 0 0 0 * * *): keys stored before midnight UTC
        `max_age_days` days ago are deleted, and with them the tags and payload hashes that
        answer 409 and 207. How many were deleted."""
        with self.lock:
            midnight = self.now().replace(hour=0, minute=0, second=0, microsecond=0)
            limit = midnight - timedelta(days=self.max_age_days)
            kept = [key for key in self.keys if key.created_at >= limit]
            deleted = len(self.keys) - len(kept)
            self.keys = kept
            return deleted

    # ---------------------------------------------------------------------- batching

    def run_batching(self) -> list[str]:
        """DiagnosisKeyBatchService.batchDocuments: whole uploads into batches of <= doclimit keys."""
        created: list[str] = []
        with self.lock:
            while True:
                tags: list[str] = []
                size = 0
                for key in self.keys:
                    if key.batch_tag is not None or key.upload_tag in tags:
                        continue
                    upload_size = sum(1 for k in self.keys if k.upload_tag == key.upload_tag)
                    if size + upload_size > self.doclimit:
                        break
                    tags.append(key.upload_tag)
                    size += upload_size
                if not tags:
                    return created
                now = self.now()
                today = now.strftime("%Y%m%d")
                last = self.batches[-1] if self.batches else None
                if last is not None and last.created_at.date() == now.date():
                    name = f"{today}-{int(last.name.split('-', 1)[1]) + 1}"
                else:
                    name = f"{today}-1"
                if last is not None:
                    last.link = name
                self.batches.append(DownloadBatch(name=name, created_at=now))
                for key in self.keys:
                    if key.upload_tag in tags:
                        key.batch_tag = name
                created.append(name)

    # ------------------------------------------------------------------------ download

    def _check_date(self, requested: str) -> date:
        # @DateTimeFormat(iso = ISO.DATE): yyyy-MM-dd only (fromisoformat also takes 20261203).
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", requested):
                raise ValueError(requested)
            day = date.fromisoformat(requested)
        except ValueError as error:
            raise GatewayError(400, "Invalid date") from error
        threshold = (self.now() - timedelta(days=self.max_age_days)).date()
        if day < threshold:
            raise GatewayError(410, "Requested date is too old!")
        return day

    def download(
        self, *, country: str, requested: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """DownloadController.downloadDiagnosisKeys, with the converter's Accept rules."""
        # Spring picks a producible type first (406); the converter checks the version only
        # when it writes the body (writeInternal), after the controller's 410/404/400.
        media, version = _producible(
            headers.get("accept"), ("application/protobuf", "application/json")
        )
        day = self._check_date(requested)
        batch_tag = headers.get("batchtag")
        with self.lock:
            if batch_tag is None:
                begin = datetime(day.year, day.month, day.day, tzinfo=UTC)
                first = next((b for b in self.batches if b.created_at > begin), None)
                if first is None:
                    raise GatewayError(404, "Could not find any batches for given date")
                batch_tag = first.name
            batch = next((b for b in self.batches if b.name == batch_tag), None)
            if batch is None:
                raise GatewayError(404, "Could not find batch with given BatchTag")
            if batch.created_at.date() < day:
                raise GatewayError(
                    400, "Given date does is not after or equals the requested batchTag"
                )
            keys = [
                k.payload
                for k in sorted(self.keys, key=lambda k: k.id)
                if k.batch_tag == batch_tag and k.uploader_country != country
            ]
            next_tag = batch.link or "null"
        _check_written_version(version)
        body = encode_batch(keys) if media == "application/protobuf" else encode_batch_json(keys)
        return (
            200,
            {
                "Content-Type": f"{media}; version={version}",
                "batchTag": batch_tag,
                "nextBatchTag": next_tag,
            },
            body,
        )

    def audit(
        self, *, requested: str, batch_tag: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """AuditController.getAuditInformation: one entry per upload in the batch, in upload order."""
        accept = headers.get("accept") or "*/*"
        if not any(
            _media_type(part)[0] in ("application/json", "*/*", "application/*")
            for part in accept.split(",")
        ):
            raise GatewayError(406, "Could not find acceptable representation")
        day = self._check_date(requested)
        with self.lock:
            batch = next((b for b in self.batches if b.name == batch_tag), None)
            if batch is None:
                raise GatewayError(404, "Could not find batch with given BatchTag")
            if batch.created_at.date() != day:
                raise GatewayError(404, "Given date does not match the requested batch")
            uploads: dict[str, list[StoredKey]] = {}
            for key in sorted(self.keys, key=lambda k: k.id):
                if key.batch_tag == batch_tag:
                    uploads.setdefault(key.upload_tag, []).append(key)
            entries = []
            for keys in uploads.values():
                first = keys[0]
                entry: dict[str, Any] = {
                    "country": first.uploader_country,
                    "uploadedTime": first.created_at.isoformat().replace("+00:00", "Z"),
                    "uploaderThumbprint": first.uploader_thumbprint,
                    "uploaderSigningThumbprint": first.signing_thumbprint,
                    "amount": len(keys),
                    "batchSignature": first.batch_signature,
                }
                for type_, certificate_field, signature_field, print_ in (
                    (
                        "AUTHENTICATION",
                        "uploaderCertificate",
                        "uploaderOperatorSignature",
                        first.uploader_thumbprint,
                    ),
                    (
                        "SIGNING",
                        "signingCertificate",
                        "signingCertificateOperatorSignature",
                        first.signing_thumbprint,
                    ),
                ):
                    row = self.registered(print_, first.uploader_country, type_)
                    if row is not None:
                        entry[certificate_field] = row.raw_pem
                        entry[signature_field] = row.signature
                entries.append(entry)
        if not entries:
            raise GatewayError(404, "Batchtag not found")
        return 200, {"Content-Type": "application/json"}, json.dumps(entries).encode()

    # ----------------------------------------------------------------------- callbacks

    def callback_list(self, *, country: str) -> tuple[int, dict[str, str], bytes]:
        """CallbackAdminController.getCallbackSubscriptions: the country's own subscriptions."""
        with self.lock:
            rows = [
                {"callbackId": c.callback_id, "url": c.url}
                for c in self.callbacks
                if c.country == country
            ]
        return 200, {"Content-Type": "application/json"}, json.dumps(rows).encode()

    def callback_put(
        self, *, country: str, callback_id: str, url: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        """CallbackAdminController.putOrUpdateCallbackSubscription, with CallbackService.checkUrl."""
        if url is None:
            raise GatewayError(400, "Required request parameter 'url' is not present")
        if not self._callback_url_allowed(url):
            raise GatewayError(400, "Callback URL is invalid")
        with self.lock:
            for row in self.callbacks:
                if (row.callback_id, row.country) == (callback_id, country):
                    row.url = url
                    break
            else:
                self.callbacks.append(CallbackSubscription(callback_id, url, country))
        return 200, {}, b""

    def callback_delete(
        self, *, country: str, callback_id: str
    ) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            for row in self.callbacks:
                if (row.callback_id, row.country) == (callback_id, country):
                    self.callbacks.remove(row)
                    return 200, {}, b""
        raise GatewayError(
            404, "Could not find any callback subscription for the given callbackId."
        )

    def _callback_url_allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return False
        if parts.scheme != "https" or not host or parts.query:
            return False
        try:
            resolved = socket.getaddrinfo(host, None)
        except OSError:
            return False
        addresses: set[str] = set()
        for *_, sockaddr in resolved:
            # An IPv6 entry is (int, bytes) only in a Python built without IPv6: no address
            # the gateway can judge, so it refuses, as for a name that does not resolve.
            if not isinstance(sockaddr[0], str):
                return False
            addresses.add(sockaddr[0].split("%")[0])
        if host in self.callback_hosts_allowed:
            return True
        return not any(
            ipaddress.ip_address(address) in network
            for address in addresses
            for network in _PRIVATE_NETWORKS
            if ipaddress.ip_address(address).version == network.version
        )

    # ------------------------------------------------------------------- test controls

    def tamper(self, *, batch_tag: str, index: int, changes: dict[str, Any]) -> None:
        """Change a stored key after its signature was checked (what a broken gateway might serve)."""
        with self.lock:
            keys = [k for k in sorted(self.keys, key=lambda k: k.id) if k.batch_tag == batch_tag]
            stored = keys[index]
            fields = {name: getattr(stored.payload, name) for name in DiagnosisKey.__slots__}
            fields.update(
                {name: tuple(v) if isinstance(v, list) else v for name, v in changes.items()}
            )
            stored.payload = DiagnosisKey(**fields)

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "keys": [
                    {
                        "key_data": base64.b64encode(k.payload.key_data).decode(),
                        "origin": k.payload.origin,
                        "visited_countries": list(k.payload.visited_countries),
                        "rolling_start_interval_number": k.payload.rolling_start_interval_number,
                        "transmission_risk_level": k.payload.transmission_risk_level,
                        "days_since_onset_of_symptoms": k.payload.days_since_onset_of_symptoms,
                        "report_type": k.payload.report_type,
                        "upload_tag": k.upload_tag,
                        "batch_tag": k.batch_tag,
                    }
                    for k in self.keys
                ],
                "batches": [{"name": b.name, "link": b.link} for b in self.batches],
                "requests": list(self.requests),
            }


def _media_type(value: str) -> tuple[str, str | None]:
    parts = [part.strip() for part in value.split(";")]
    version = None
    for parameter in parts[1:]:
        name, _, raw = parameter.partition("=")
        if name.strip().lower() == "version":
            version = raw.strip().strip('"')
    return parts[0].lower(), version


def _parse_version(version: str) -> tuple[int, int] | None:
    """SemVerUtils.parseSemVer: major.minor as Java's Integer.parseInt reads them; None if not."""
    pieces = version.split(".")
    if len(pieces) != 2 or not all(re.fullmatch(r"[+-]?\d+", piece) for piece in pieces):
        return None
    return int(pieces[0]), int(pieces[1])


def _accepts_json(accept: str | None) -> bool:
    return any(
        _media_type(part)[0] in ("application/json", "*/*", "application/*")
        for part in (accept or "*/*").split(",")
    )


def _producible(accept: str | None, produces: tuple[str, ...]) -> tuple[str, str | None]:
    """Spring's choice of a producible type (406 when none); the version is checked later."""
    for part in (accept or "*/*").split(","):
        media, version = _media_type(part)
        if media in ("*/*", "application/*"):
            media = produces[0]
        if media in produces:
            return media, version
    raise GatewayError(406, "Could not find acceptable representation")


def _check_written_version(version: str | None) -> None:
    """ProtobufHttpMessageConverter.writeInternal: every version problem is a 415 there."""
    if version is None:
        raise GatewayError(415, "Version parameter of Content-Type is required!")
    if _parse_version(version) != (1, 0):
        raise GatewayError(415, "Protocol version is not compatible!")


def gateway_thumbprint(certificate: x509.Certificate) -> str:
    """CertificateUtils.calculateHash: the SHA-256 as a number in hex, padded only from 63 digits."""
    digits = format(int(thumbprint(certificate), 16), "x")
    return "0" + digits if len(digits) == 63 else digits


def _cms_signer(content: bytes, der: bytes) -> x509.Certificate | None:
    """The signer of a detached CMS signature over `content`, as OpenSSL sees it; None if invalid."""
    if shutil.which("openssl") is None:  # pragma: no cover - every CI machine has openssl
        from authority.formats.efgs.signing import BatchSignatureError, verify_batch_signature

        try:
            return verify_batch_signature(content, base64.b64encode(der).decode()).certificate
        except BatchSignatureError:
            return None
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "signature.der").write_bytes(der)
        (folder / "content").write_bytes(content)
        result = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-noverify",
             "-in", str(folder / "signature.der"), "-content", str(folder / "content"),
             "-signer", str(folder / "signer.pem"), "-out", str(folder / "out")],
            capture_output=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            return None
        signers = x509.load_pem_x509_certificates((folder / "signer.pem").read_bytes())
        return signers[0] if signers else None
