"""HTTPS to the European gateway with our client certificate: one request per call, every one with a timeout."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import requests

from authority.federation.configuration import Federation
from authority.formats.efgs.batch import PROTOBUF_MEDIA_TYPE

# Answers that say nothing about what the gateway did: the request may or may not have
# been processed. Together with network failures and timeouts they are retried.
UNKNOWN_OUTCOME_STATUSES = frozenset({500, 502, 503, 504})


class GatewayUnreachable(Exception):
    """No answer (network failure, timeout) or a 5xx: whether the gateway acted is unknown."""


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str:
        """The gateway's `{"message": ...}` when it gives one, for operators."""
        try:
            payload = self.json()
        except ValueError:
            return ""
        return str(payload.get("message") or "") if isinstance(payload, dict) else ""


class GatewayClient:
    """Speaks the gateway's protocol; retries and their meaning are the services' decision."""

    def __init__(self, federation: Federation) -> None:
        self.federation = federation
        self.session = requests.Session()
        self.session.cert = (federation.tls_cert_file, federation.tls_key_file)
        self.session.verify = federation.server_ca
        # Never take a proxy or credentials from the environment's defaults by surprise.
        self.session.trust_env = False

    def close(self) -> None:
        self.session.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> GatewayResponse:
        try:
            response = self.session.request(
                method,
                self.federation.gateway_url + path,
                timeout=self.federation.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as error:
            raise GatewayUnreachable(f"{type(error).__name__}: {error}") from error
        if response.status_code in UNKNOWN_OUTCOME_STATUSES:
            raise GatewayUnreachable(f"the gateway answered {response.status_code}")
        return GatewayResponse(
            status=response.status_code,
            headers={name.lower(): value for name, value in response.headers.items()},
            body=response.content,
        )

    def upload(self, *, batch_tag: str, batch_signature: str, body: bytes) -> GatewayResponse:
        """POST /diagnosiskeys/upload: one DiagnosisKeyBatch under its tag and signature."""
        return self._request(
            "POST",
            "/diagnosiskeys/upload",
            data=body,
            headers={
                "Content-Type": PROTOBUF_MEDIA_TYPE,
                "Accept": "application/json",
                "batchTag": batch_tag,
                "batchSignature": batch_signature,
            },
        )

    def download(self, *, day: date, batch_tag: str | None) -> GatewayResponse:
        """GET /diagnosiskeys/download/{date}: the day's first batch, or the one named."""
        headers = {"Accept": PROTOBUF_MEDIA_TYPE}
        if batch_tag:
            headers["batchTag"] = batch_tag
        return self._request("GET", f"/diagnosiskeys/download/{day.isoformat()}", headers=headers)

    def audit(self, *, day: date, batch_tag: str) -> GatewayResponse:
        """GET /diagnosiskeys/audit/download/{date}/{batchTag}: who uploaded what in a batch."""
        return self._request(
            "GET",
            f"/diagnosiskeys/audit/download/{day.isoformat()}/{quote(batch_tag, safe='')}",
            headers={"Accept": "application/json"},
        )

    def callbacks(self) -> GatewayResponse:
        """GET /diagnosiskeys/callback: our country's callback subscriptions."""
        return self._request(
            "GET", "/diagnosiskeys/callback", headers={"Accept": "application/json"}
        )

    def delete_callback(self, *, callback_id: str) -> GatewayResponse:
        """DELETE /diagnosiskeys/callback/{id}: end a subscription of ours."""
        return self._request("DELETE", f"/diagnosiskeys/callback/{quote(callback_id, safe='')}")

    def register_callback(self, *, callback_id: str, url: str) -> GatewayResponse:
        """PUT /diagnosiskeys/callback/{id}?url=...: create or update a subscription."""
        return self._request(
            "PUT", f"/diagnosiskeys/callback/{quote(callback_id, safe='')}", params={"url": url}
        )
