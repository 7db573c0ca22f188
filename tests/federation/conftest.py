"""The test gateway as a real process over mutual TLS, the certificates of two countries, and our settings for it."""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from authority.formats.efgs.batch import (
    PROTOBUF_MEDIA_TYPE,
    DiagnosisKey,
    batch_signing_bytes,
    encode_batch,
)
from authority.formats.efgs.signing import sign_with_trust_anchor, thumbprint
from tests.federation.pki import Identity, certificate_authority, issue

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Pki:
    """Every certificate the tests need, written to a folder as PEM files."""

    folder: Path
    identities: dict[str, Identity] = field(default_factory=dict)

    def add(self, name: str, identity: Identity) -> Identity:
        self.identities[name] = identity
        identity.write(self.folder, name)
        return identity

    def cert(self, name: str) -> str:
        return str(self.folder / f"{name}.pem")

    def key(self, name: str) -> str:
        return str(self.folder / f"{name}.key")

    def pair(self, name: str) -> tuple[str, str]:
        return self.cert(name), self.key(name)

    def __getitem__(self, name: str) -> Identity:
        return self.identities[name]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("efgs-pki")
    pki = Pki(folder)
    tls_ca = pki.add("tls-ca", certificate_authority("EFGS Test TLS CA"))
    pki.add("trust-anchor", certificate_authority("EFGS Test Trust Anchor", kind="rsa"))
    pki.add("server", issue(tls_ca, common_name="localhost", country="EU", usage="server",
                            dns_names=("localhost",), ip_addresses=("127.0.0.1",)))  # fmt: skip
    pki.add("it-tls", issue(tls_ca, common_name="Immuni backend", country="IT"))
    pki.add("it-signing", issue(None, common_name="Immuni signing", country="IT", usage="sign"))
    pki.add("de-tls", issue(tls_ca, common_name="CWA backend", country="DE"))
    pki.add(
        "de-signing", issue(None, common_name="CWA signing", country="DE", usage="sign", kind="rsa")
    )
    pki.add("fr-tls", issue(tls_ca, common_name="TousAntiCovid backend", country="FR"))
    pki.add("fr-signing", issue(None, common_name="TAC signing", country="FR", usage="sign"))
    # Trusted by the TLS layer, refused by the registry:
    pki.add("it-unregistered-tls", issue(tls_ca, common_name="Unknown backend", country="IT"))
    pki.add("no-country-tls", issue(tls_ca, common_name="Nowhere backend", country=None))
    # Refused by the TLS layer itself:
    other_ca = certificate_authority("Someone else's CA")
    pki.add("untrusted-tls", issue(other_ca, common_name="Impostor", country="IT"))
    now = datetime.now(UTC)
    pki.add("expired-tls", issue(tls_ca, common_name="Old backend", country="IT",
                                 not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)))  # fmt: skip
    pki.add(
        "it-unregistered-signing",
        issue(None, common_name="Other IT signing", country="IT", usage="sign"),
    )
    return pki


class GatewayHandle:
    """The running test gateway: its URLs, its controls, and requests as any country."""

    def __init__(self, pki: Pki, port: int, admin_port: int) -> None:
        self.pki = pki
        self.url = f"https://127.0.0.1:{port}"
        self.admin_url = f"http://127.0.0.1:{admin_port}"

    def admin(self, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.admin_url + path, data=data, method="GET" if data is None else "POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def register(
        self,
        name: str,
        country: str,
        type_: str,
        *,
        signed_by: str = "trust-anchor",
        as_thumbprint: str | None = None,
    ) -> None:
        """Register a certificate as the gateway's operators do: under its 64-digit SHA-256."""
        pem = self.pki[name].cert_pem
        self.admin(
            "/admin/certificates",
            {
                "thumbprint": as_thumbprint or thumbprint(self.pki[name].certificate),
                "country": country,
                "type": type_,
                "raw_pem": pem,
                "signature": sign_with_trust_anchor(pem, self.pki[signed_by].key),
            },
        )

    def reset(self) -> None:
        self.admin("/admin/reset", {})

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self.admin("/admin/state")
        return result

    def batch(self) -> list[str]:
        created: list[str] = self.admin("/admin/batch", {})["created"]
        return created

    def set_clock(self, moment: datetime | None) -> None:
        self.admin("/admin/clock", {"now": moment.isoformat() if moment else None})

    def fault(self, endpoint: str, *faults: str, stall_seconds: float | None = None) -> None:
        payload: dict[str, Any] = {"endpoint": endpoint, "faults": list(faults)}
        if stall_seconds is not None:
            payload["stall_seconds"] = stall_seconds
        self.admin("/admin/faults", payload)

    def tamper(self, batch_tag: str, index: int, **changes: Any) -> None:
        self.admin("/admin/tamper", {"batch_tag": batch_tag, "index": index, "changes": changes})

    def settings(self, **values: int) -> None:
        self.admin("/admin/settings", values)

    # ------------------------------------------------------------ as a national backend

    def request(
        self, method: str, path: str, *, client: str = "de-tls", **kwargs: Any
    ) -> requests.Response:
        cert = None if client == "none" else self.pki.pair(client)
        return requests.request(
            method, self.url + path, cert=cert, verify=self.pki.cert("tls-ca"), timeout=30, **kwargs
        )

    def upload_as(
        self,
        keys: Sequence[DiagnosisKey],
        *,
        client: str = "de-tls",
        signer: str = "de-signing",
        batch_tag: str | None = None,
        content_type: str = PROTOBUF_MEDIA_TYPE,
        signature: str | None = None,
    ) -> requests.Response:
        """An upload the way another country's backend makes it, signed with OpenSSL."""
        if signature is None:
            signature = openssl_sign(batch_signing_bytes(keys), self.pki, signer)
        return self.request(
            "POST",
            "/diagnosiskeys/upload",
            client=client,
            data=encode_batch(list(keys)),
            headers={
                "Content-Type": content_type,
                "batchTag": batch_tag or f"test-{os.urandom(6).hex()}",
                "batchSignature": signature,
            },
        )


def openssl_sign(content: bytes, pki: Pki, signer: str) -> str:
    """A detached CMS signature made by OpenSSL, not by the code under test."""
    folder = pki.folder
    source = folder / f"content-{os.urandom(4).hex()}"
    target = source.with_suffix(".der")
    source.write_bytes(content)
    try:
        subprocess.run(
            ["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256",
             "-signer", pki.cert(signer), "-inkey", pki.key(signer),
             "-in", str(source), "-out", str(target)],
            check=True, capture_output=True,
        )  # fmt: skip
        return base64.b64encode(target.read_bytes()).decode()
    finally:
        source.unlink(missing_ok=True)
        target.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def gateway_process(pki: Pki) -> Iterator[GatewayHandle]:
    config = pki.folder / "gateway.json"
    config.write_text(
        json.dumps(
            {
                "server_cert": pki.cert("server"),
                "server_key": pki.key("server"),
                "client_ca": pki.cert("tls-ca"),
                "trust_anchor": pki.cert("trust-anchor"),
            }
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.federation.gateway.server", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("READY"):
        process.kill()
        raise RuntimeError(f"the test gateway did not start: {line!r}")
    _, port, admin_port = line.split()
    handle = GatewayHandle(pki, int(port), int(admin_port))
    for name, country, type_ in (
        ("it-tls", "IT", "AUTHENTICATION"),
        ("it-signing", "IT", "SIGNING"),
        ("de-tls", "DE", "AUTHENTICATION"),
        ("de-signing", "DE", "SIGNING"),
        ("fr-tls", "FR", "AUTHENTICATION"),
        ("fr-signing", "FR", "SIGNING"),
        ("expired-tls", "IT", "AUTHENTICATION"),
        ("no-country-tls", "IT", "AUTHENTICATION"),
    ):
        handle.register(name, country, type_)
    try:
        yield handle
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def gateway(gateway_process: GatewayHandle) -> GatewayHandle:
    gateway_process.reset()
    return gateway_process


@pytest.fixture
def federation(settings: Any, gateway: GatewayHandle, pki: Pki) -> GatewayHandle:
    """Our backend configured for the test gateway, as IT."""
    settings.FEDERATION_GATEWAY_URL = gateway.url
    settings.FEDERATION_COUNTRY = "IT"
    settings.FEDERATION_TLS_CERT_FILE, settings.FEDERATION_TLS_KEY_FILE = pki.pair("it-tls")
    settings.FEDERATION_SIGNING_CERT_FILE, settings.FEDERATION_SIGNING_KEY_FILE = pki.pair(
        "it-signing"
    )
    settings.FEDERATION_TRUST_ANCHOR_FILE = pki.cert("trust-anchor")
    settings.FEDERATION_SERVER_CA_FILE = pki.cert("tls-ca")
    settings.FEDERATION_TIMEOUT_SECONDS = 20
    settings.FEDERATION_ATTEMPTS = 3
    settings.FEDERATION_BACKOFF_SECONDS = 0
    settings.FEDERATION_UPLOAD_MIN_KEYS = 1
    settings.FEDERATION_UPLOAD_MAX_KEYS = 5000
    settings.KEYS_EMBARGO_MINUTES = 120
    return gateway


def interval(moment: datetime) -> int:
    return int(moment.timestamp()) // 600


def day_start(days_ago: int, now: datetime | None = None) -> int:
    """The rolling start number of the UTC day `days_ago` days before now."""
    moment = (now or datetime.now(UTC)) - timedelta(days=days_ago)
    return interval(moment.replace(hour=0, minute=0, second=0, microsecond=0))


def foreign_key(
    key_data: bytes | None = None,
    *,
    origin: str = "DE",
    visited: Sequence[str] = ("IT",),
    days_ago: int = 2,
    report_type: int = 1,
    dsos_value: int = 0,
    trl: int = 0x7FFFFFFF,
    rolling_period: int = 144,
) -> DiagnosisKey:
    return DiagnosisKey(
        key_data=key_data or os.urandom(16),
        rolling_start_interval_number=day_start(days_ago),
        rolling_period=rolling_period,
        transmission_risk_level=trl,
        visited_countries=tuple(visited),
        origin=origin,
        report_type=report_type,
        days_since_onset_of_symptoms=dsos_value,
    )
