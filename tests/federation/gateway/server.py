"""The test gateway as a process: HTTPS with mutual TLS for national backends, plain HTTP on localhost for the tests' controls.

Run: python -m tests.federation.gateway.server CONFIG.json ; it prints `READY <port> <admin port>`.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509

from tests.federation.gateway.rules import Gateway, GatewayError, RegisteredCertificate

_DOWNLOAD = re.compile(r"^/diagnosiskeys/download/([^/]+)$")
_AUDIT = re.compile(r"^/diagnosiskeys/audit/download/([^/]+)/([^/]+)$")
_CALLBACK = re.compile(r"^/diagnosiskeys/callback/([^/]+)$")


class TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, gateway: Gateway) -> None:
        super().__init__(address, GatewayHandler)
        self.context = context
        self.gateway = gateway

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        # The handshake runs in the handler's thread: a refused client must not stall the others.
        return self.context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), address


class GatewayHandler(BaseHTTPRequestHandler):
    server: TlsServer
    protocol_version = "HTTP/1.1"

    def handle(self) -> None:
        try:
            self.request.settimeout(30)
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            # What the gateway's load balancer does with no, an expired or an untrusted
            # client certificate (SecReq-004..007): no HTTP at all.
            return
        super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, error: GatewayError) -> None:
        body = json.dumps({"message": error.message}).encode()
        self._answer(error.status, {"Content-Type": "application/json"}, body)

    def _record(self, status: int, extra: dict[str, Any]) -> None:
        gateway = self.server.gateway
        with gateway.lock:
            gateway.requests.append(
                {"method": self.command, "path": self.path, "status": status, **extra}
            )

    def _dispatch(self, method: str) -> None:
        gateway = self.server.gateway
        path = urlsplit(self.path).path
        headers = self._headers()
        body = self.rfile.read(int(headers.get("content-length") or 0))
        try:
            country, client_print = gateway.authenticate(self.request.getpeercert(binary_form=True))
            if method == "POST" and path == "/diagnosiskeys/upload":
                fault = gateway.take_fault("upload")
                if fault == "error_500":
                    # Its ErrorHandler's answer to anything unexpected, before storing.
                    raise GatewayError(500, "Internal Server Error.")
                status, out_headers, out_body = gateway.upload(
                    country=country, client_thumbprint=client_print, headers=headers, body=body
                )
                self._record(status, {"batchTag": headers.get("batchtag"), "country": country})
                if fault == "drop_after_store":
                    self.close_connection = True
                    self.request.close()
                    return
                if fault == "stall_after_store":
                    # Stored, but the answer comes after the client has given up waiting.
                    time.sleep(gateway_stall_seconds)
                self._answer(status, out_headers, out_body)
                return
            if method == "GET" and (match := _DOWNLOAD.match(path)):
                fault = gateway.take_fault("download")
                if fault == "error_500":
                    raise GatewayError(500, "Internal Server Error.")
                status, out_headers, out_body = gateway.download(
                    country=country, requested=unquote(match.group(1)), headers=headers
                )
                self._record(status, {"batchTag": out_headers.get("batchTag"), "country": country})
                self._answer(status, out_headers, out_body)
                return
            if method == "GET" and (match := _AUDIT.match(path)):
                status, out_headers, out_body = gateway.audit(
                    requested=unquote(match.group(1)),
                    batch_tag=unquote(match.group(2)),
                    headers=headers,
                )
                self._record(status, {"country": country})
                self._answer(status, out_headers, out_body)
                return
            if method == "GET" and path == "/diagnosiskeys/callback":
                answer = gateway.callback_list(country=country)
            elif method == "PUT" and (match := _CALLBACK.match(path)):
                query = parse_qs(urlsplit(self.path).query)
                answer = gateway.callback_put(
                    country=country,
                    callback_id=unquote(match.group(1)),
                    url=query["url"][0] if "url" in query else None,
                )
            elif method == "DELETE" and (match := _CALLBACK.match(path)):
                answer = gateway.callback_delete(
                    country=country, callback_id=unquote(match.group(1))
                )
            else:
                raise GatewayError(404, "Not Found")
            self._record(answer[0], {"country": country})
            self._answer(*answer)
            return
        except GatewayError as error:
            self._record(error.status, {"batchTag": headers.get("batchtag")})
            self._error(error)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


gateway_stall_seconds = 5.0


class AdminHandler(BaseHTTPRequestHandler):
    """The tests' controls: register certificates, set the clock, batch, inject faults, look."""

    server: AdminServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/admin/state":
            self._json(200, self.server.gateway.summary())
        else:
            self._json(404, {})

    def do_POST(self) -> None:
        global gateway_stall_seconds
        gateway = self.server.gateway
        length = int(self.headers.get("Content-Length") or 0)
        payload = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/admin/certificates":
            with gateway.lock:
                gateway.certificates.append(RegisteredCertificate(**payload))
            self._json(201, {})
        elif self.path == "/admin/revoke":
            with gateway.lock:
                for row in gateway.certificates:
                    if row.thumbprint == payload["thumbprint"]:
                        row.revoked = True
            self._json(200, {})
        elif self.path == "/admin/clock":
            with gateway.lock:
                gateway.fixed_now = (
                    datetime.fromisoformat(payload["now"]) if payload.get("now") else None
                )
            self._json(200, {})
        elif self.path == "/admin/clean-up":
            self._json(200, {"deleted": gateway.clean_up()})
        elif self.path == "/admin/batch":
            self._json(200, {"created": gateway.run_batching()})
        elif self.path == "/admin/faults":
            with gateway.lock:
                gateway.faults.setdefault(payload["endpoint"], []).extend(payload["faults"])
            gateway_stall_seconds = float(payload.get("stall_seconds", gateway_stall_seconds))
            self._json(200, {})
        elif self.path == "/admin/tamper":
            gateway.tamper(
                batch_tag=payload["batch_tag"], index=payload["index"], changes=payload["changes"]
            )
            self._json(200, {})
        elif self.path == "/admin/reset":
            with gateway.lock:
                gateway.keys.clear()
                gateway.batches.clear()
                gateway.faults.clear()
                gateway.requests.clear()
                gateway.fixed_now = None
                gateway.callbacks.clear()
                gateway.callback_hosts_allowed.clear()
                gateway.max_age_days, gateway.upload_limit, gateway.doclimit = 2, 5000, 5000
                gateway.certificates = [
                    row for row in gateway.certificates if not payload.get("certificates")
                ]
                for row in gateway.certificates:
                    row.revoked = False
            self._json(200, {})
        elif self.path == "/admin/callback-hosts":
            with gateway.lock:
                gateway.callback_hosts_allowed = set(payload["hosts"])
            self._json(200, {})
        elif self.path == "/admin/drop-callbacks":
            # What the gateway does to a subscription whose checks fail at notification time.
            with gateway.lock:
                gateway.callbacks.clear()
            self._json(200, {})
        elif self.path == "/admin/settings":
            with gateway.lock:
                for name in ("max_age_days", "upload_limit", "doclimit"):
                    if name in payload:
                        setattr(gateway, name, int(payload[name]))
            self._json(200, {})
        else:
            self._json(404, {})


class AdminServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        super().__init__(address, AdminHandler)
        self.gateway = gateway


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config["server_cert"], config["server_key"])
    context.load_verify_locations(config["client_ca"])
    context.verify_mode = ssl.CERT_REQUIRED
    trust_anchor = x509.load_pem_x509_certificate(Path(config["trust_anchor"]).read_bytes())
    gateway = Gateway(trust_anchor=trust_anchor)
    server = TlsServer(("127.0.0.1", 0), context, gateway)
    admin = AdminServer(("127.0.0.1", 0), gateway)
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    print(f"READY {server.server_address[1]} {admin.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
