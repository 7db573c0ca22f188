"""The production smoke scenario, driven over HTTP against gunicorn, a Celery worker and beat
started by scripts/production_smoke.sh (read that first).

A new operator is invited and sets a password through the link; someone types a wrong
password; a regional health system authorizes a code through the HIS API (and a wrong API key
is refused); phones check a real and a wrong code and upload keys; the worker publishes them; the
batch is downloaded through /v1/keys/{n} and compared with what the batch storage holds;
retention, run by the worker, takes the batch out of the index and deletes its file; two
malformed requests arrive on a raw socket. Every secret the scenario used is written to
--secrets-out, for authority.operations.logscan to look for in every process's log.

Runs in the smoke script's environment (the production settings, the same database).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import django

# Run as a script from scripts/: the project's packages are one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# A phone behind a carrier's proxy, as the access log would see it if it showed anything.
PHONE_HEADERS = {
    "User-Agent": "Immuni/2.6.0 (smoke-test; device 7f3a9c0e)",
    "X-Forwarded-For": "203.0.113.7",
}
BROWSER_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) SmokeBrowser/1.0",
    "X-Forwarded-For": "198.51.100.23, 2001:db8::17",
    "Accept-Language": "it-IT,it;q=0.9",
}
NEW_PASSWORD = "the smoke test's long new password 7"
WRONG_PASSWORD = "a wrong password tried once 3"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    path: str


@dataclass
class Client:
    """A browser or a phone, as far as the scenario needs one: the headers the TLS-terminating
    proxy adds, cookies (sent back although Secure: the proxy speaks HTTPS to the browser),
    redirects. Counts its requests, and keeps every cookie value it was given."""

    port: int
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)
    cookie_values: dict[str, set[str]] = field(default_factory=dict)
    requests: int = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        follow: bool = True,
    ) -> Answer:
        for _ in range(5):
            answer = self._send(method, path, body, headers or {})
            if not (follow and answer.status in (301, 302, 303)):
                return answer
            location = urlsplit(answer.headers["Location"])
            path = location.path + (f"?{location.query}" if location.query else "")
            method, body = "GET", None
        raise AssertionError(f"too many redirects from {path}")

    def _send(self, method: str, path: str, body: bytes | None, extra: dict[str, str]) -> Answer:
        origin = f"https://127.0.0.1:{self.port}"
        headers = {"X-Forwarded-Proto": "https", **self.headers, **extra}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and "Origin" not in headers and self.cookies:
            headers["Origin"] = origin
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read(), path)
        finally:
            connection.close()
        self.requests += 1
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                    self.cookie_values.setdefault(name, set()).add(morsel.value)
                else:
                    self.cookies.pop(name, None)
        return answer


class Forms(HTMLParser):
    """The forms of a page: their inputs' names, types and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append([])
        elif tag == "input" and self.forms:
            self.forms[-1].append(attributes)


def post_form(
    client: Client, page: Answer, fill: Callable[[dict[str, str]], str | None]
) -> tuple[Answer, str]:
    """Submits the page's POST form to the page's own address, each input's value from
    fill(input) or as the page gave it. Returns the answer and the CSRF token sent."""
    parser = Forms()
    parser.feed(page.body.decode())
    assert parser.forms, f"no form on {page.path}"
    fields, csrf = {}, ""
    for attributes in parser.forms[-1]:
        name = attributes.get("name")
        if not name or attributes.get("type") in ("submit", "button"):
            continue
        value = fill(attributes)
        fields[name] = attributes.get("value", "") if value is None else value
        if name == "csrfmiddlewaretoken":
            csrf = fields[name]
    referer = f"https://127.0.0.1:{client.port}{page.path}"  # what a browser sends
    answer = client.request(
        "POST",
        page.path,
        body=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": referer},
    )
    return answer, csrf


def wait_until(what: str, condition: Callable[[], bool], seconds: int = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def malformed_requests(port: int, invitation_path: str, token: str, api_key: str) -> None:
    """What gunicorn refuses before Django sees it, and logs in its error log with the part
    it could not parse: a request line without a version, then one whose link ends in a
    character a mail program added (both carrying an invitation link), a header name with a
    space in it (next to a token), and a HIS whose Authorization header lost its colon (the
    whole line, API key included, is what gunicorn reports). Then a Host header not in
    ALLOWED_HOSTS, which Django refuses (one line in the log, no traceback)."""
    for raw in (
        f"GET {invitation_path}\r\n\r\n",
        f"GET {invitation_path}\u00bb HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        f"GET /v1/keys/index HTTP/1.1\r\nHost: 127.0.0.1\r\nX Token {token}: 1\r\n\r\n",
        "POST /v1/otp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization ApiKey {api_key}\r\nContent-Length: 0\r\n\r\n",
        "GET /accounts/login/ HTTP/1.1\r\nHost: not-ours.example\r\nConnection: close\r\n\r\n",
    ):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw_socket:
            raw_socket.sendall(raw.encode())
            reply = raw_socket.recv(4096)
        assert reply.startswith(b"HTTP/1.1 400"), reply[:80]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secrets-out", type=Path, required=True)
    parser.add_argument("--requests-out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
    django.setup()
    secrets: dict[str, set[str]] = {}
    browser = Client(args.port, dict(BROWSER_HEADERS))
    phone = Client(args.port, dict(PHONE_HEADERS))
    try:
        run(args.port, browser, phone, secrets)
    finally:
        for name, values in browser.cookie_values.items():
            if name in ("sessionid", "csrftoken"):
                secrets.setdefault(f"{name} cookie", set()).update(values)
        args.secrets_out.write_text(json.dumps({k: sorted(v) for k, v in secrets.items()}))
        # +2: the malformed requests, logged by gunicorn too when it has read their line.
        args.requests_out.write_text(str(browser.requests + phone.requests))
    print("production smoke scenario: done")
    return 0


def run(port: int, browser: Client, phone: Client, secrets: dict[str, set[str]]) -> None:
    from django.conf import settings
    from django.utils import timezone

    from authority.accounts.models import Region, Role, User
    from authority.accounts.services import invitations as accounts
    from authority.formats.otp import generate_otp, otp_sha256_hex
    from authority.keys.models import Batch, PublicationRun
    from authority.otps.services import create_api_key
    from tasks.publishing import apply_retention, publish_keys

    for name in (
        "SECRET_KEY",
        "OTP_HMAC_KEY",
        "SIGNING_KEY_ENCRYPTION_KEY",
        "AUDIT_HMAC_KEY",
        "METRICS_TOKEN",
    ):
        secrets[name] = {os.environ[name]}
    if os.environ.get("BATCH_S3_SECRET_ACCESS_KEY"):
        secrets["S3 secret key"] = {os.environ["BATCH_S3_SECRET_ACCESS_KEY"]}
    secrets["user agent"] = {PHONE_HEADERS["User-Agent"], BROWSER_HEADERS["User-Agent"]}

    wait_until("gunicorn", lambda: _healthy(phone))
    answer = phone.request("GET", "/health")
    assert answer.status == 200, answer.body
    print("health:", json.loads(answer.body)["checks"])

    answer = browser.request("GET", "/accounts/login/")
    assert answer.status == 200 and "Strict-Transport-Security" in answer.headers
    assert "secure" in (answer.headers.get("Set-Cookie") or "").lower(), answer.headers

    # -- an invitation, opened and used to set a password
    lazio = Region.objects.get(name="Lazio")
    administrator, _ = User.objects.get_or_create(
        username="smoke-admin", defaults={"role": Role.ADMINISTRATOR}
    )
    invitation = accounts.invite_user(
        actor=administrator,
        username="smoke-invited",
        first_name="Invited",
        last_name="Operator",
        email="invited@example.org",
        role=Role.OPERATOR,
        region=lazio,
    )
    uid, token = invitation.path.rstrip("/").split("/")[-2:]
    secrets["invitation link"] = {invitation.path}
    secrets["invitation uid"] = {uid}
    secrets["invitation token"] = {token}
    secrets["password"] = {NEW_PASSWORD, WRONG_PASSWORD}
    page = browser.request("GET", invitation.path)
    assert page.status == 200, (page.status, page.body[:300])

    def password(attributes: dict[str, str]) -> str | None:
        return NEW_PASSWORD if attributes.get("type") == "password" else None

    answer, csrf = post_form(browser, page, password)
    secrets.setdefault("CSRF form token", set()).add(csrf)
    assert answer.status == 200, (answer.status, answer.body[:300])
    assert User.objects.get(pk=invitation.user.pk).check_password(NEW_PASSWORD)
    print("invitation opened, password set")

    # -- a wrong password, then the right one
    page = browser.request("GET", "/accounts/login/")

    def login(secret: str) -> Callable[[dict[str, str]], str | None]:
        def fill(attributes: dict[str, str]) -> str | None:
            if attributes.get("type") == "password":
                return secret
            return "smoke-invited" if attributes.get("name") == "username" else None

        return fill

    answer, csrf = post_form(browser, page, login(WRONG_PASSWORD))
    secrets["CSRF form token"].add(csrf)
    assert answer.status == 200 and answer.path.startswith("/accounts/login/"), answer.status
    answer, csrf = post_form(browser, answer, login(NEW_PASSWORD))
    secrets["CSRF form token"].add(csrf)
    assert answer.status == 200 and "/enroll/" in answer.path, (answer.status, answer.path)
    print("a wrong password refused, the right one accepted")

    # -- a regional health system authorizes the code the patient's app shows (HIS API)
    api_key = create_api_key(actor=administrator, region=lazio, name="smoke HIS").key
    wrong_api_key = api_key[:8] + "x" * (len(api_key) - 8)
    secrets["HIS API key"] = {api_key, wrong_api_key}
    code, wrong = generate_otp(), generate_otp()
    secrets["OTP"] = {code, wrong}
    secrets["OTP SHA-256"] = {otp_sha256_hex(code), otp_sha256_hex(wrong)}
    onset = (timezone.localdate() - timedelta(days=2)).isoformat()
    his_body = json.dumps({"otp": code, "symptoms_started_on": onset}).encode()
    for key, expected in ((wrong_api_key, 401), (api_key, 204)):
        headers = {"Content-Type": "application/json", "Authorization": f"ApiKey {key}"}
        answer = phone.request("POST", "/v1/otp", body=his_body, headers=headers)
        assert answer.status == expected, (answer.status, answer.body)
    print("HIS API: a wrong key 401, the code authorized 204")

    # -- phones: a real and a wrong code, an upload

    def device(path: str, body: dict[str, Any], otp: str) -> Answer:
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {otp_sha256_hex(otp)}",
            "Immuni-Dummy-Data": "0",
            "Immuni-Client-Clock": str(int(time.time())),
        }
        return phone.request("POST", path, body=json.dumps(body).encode(), headers=headers)

    padding = {"padding": os.urandom(32).hex()}
    assert device("/v1/ingestion/check-otp", padding, wrong).status == 401
    assert device("/v1/ingestion/check-otp", padding, code).status == 204
    today = int(time.time()) // 600 // 144 * 144
    key_data = [base64.b64encode(os.urandom(16)).decode() for _ in range(7)]
    secrets["key data (base64)"] = set(key_data)
    teks = [
        {"key_data": data, "rolling_start_number": today - 144 * (d + 1), "rolling_period": 144}
        for d, data in enumerate(key_data)
    ]
    upload = {"province": "RM", "teks": teks, "exposure_detection_summaries": [], **padding}
    assert device("/v1/ingestion/upload", upload, wrong).status == 401
    answer = device("/v1/ingestion/upload", upload, code)
    assert answer.status == 204, answer.body
    print("check-otp 401 and 204, upload 401 and 204")

    # -- publication by the worker, download through the API, compared with the storage
    run = PublicationRun.objects.create(trigger=PublicationRun.Trigger.MANUAL)
    publish_keys.delay(run.pk)  # through Redis to the worker process
    wait_until(
        "the publication",
        lambda: PublicationRun.objects.get(pk=run.pk).finished_at is not None,
    )
    run.refresh_from_db()
    assert run.status == "succeeded", (run.status, run.message)
    answer = phone.request("GET", "/v1/keys/index")
    assert answer.status == 200, answer.body
    index = json.loads(answer.body)
    answer = phone.request("GET", f"/v1/keys/{index['newest']}")
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/zip"
    assert "immutable" in answer.headers["Cache-Control"]
    batch = Batch.objects.get(index=index["newest"])
    stored = StoredBatches()
    assert answer.body == stored.read(batch.file_name), "the API served other bytes"
    assert hashlib.sha256(answer.body).hexdigest() == batch.sha256
    print(f"published by the worker and served: {index}, {len(answer.body)} bytes, {stored}")

    answer = phone.request(
        "GET", "/metrics", headers={"Authorization": f"Bearer {os.environ['METRICS_TOKEN']}"}
    )
    assert answer.status == 200 and b"authority_last_batch_age_seconds" in answer.body

    # -- retention, by the worker: out of the index after 14 days, the file after the grace
    Batch.objects.filter(pk=batch.pk).update(
        published_at=timezone.now() - timedelta(days=settings.BATCH_RETENTION_DAYS + 1)
    )
    apply_retention.delay()
    wait_until(
        "the batch to leave the index",
        lambda: Batch.objects.get(pk=batch.pk).status == Batch.Status.RETIRED,
    )
    assert phone.request("GET", "/v1/keys/index").status == 404
    assert stored.holds(batch.file_name), "the file went before its grace period ended"
    Batch.objects.filter(pk=batch.pk).update(retired_at=timezone.now() - timedelta(days=1))
    apply_retention.delay()
    wait_until("the file to go", lambda: Batch.objects.get(pk=batch.pk).file_name == "")
    assert not stored.holds(batch.file_name), "retention left the file in the storage"
    assert phone.request("GET", f"/v1/keys/{batch.index}").status == 404
    print("retention: batch out of the index, then its file deleted from the storage")

    malformed_requests(port, invitation.path, token, api_key)
    print("four malformed requests refused by gunicorn, a foreign Host header by Django")


def _healthy(client: Client) -> bool:
    try:
        return client.request("GET", "/health").status == 200
    except OSError:
        return False


class StoredBatches:
    """What the batch storage holds, read without Django's storage classes: straight from
    the S3-compatible server with boto3, or from the directory."""

    def __init__(self) -> None:
        self.s3 = os.environ.get("BATCH_STORAGE") == "s3"
        if self.s3:
            import boto3

            self.client = boto3.client(
                "s3",
                endpoint_url=os.environ["BATCH_S3_ENDPOINT_URL"],
                region_name=os.environ["BATCH_S3_REGION"],
                aws_access_key_id=os.environ["BATCH_S3_ACCESS_KEY_ID"],
                aws_secret_access_key=os.environ["BATCH_S3_SECRET_ACCESS_KEY"],
            )
            self.bucket = os.environ["BATCH_S3_BUCKET"]
            self.prefix = os.environ.get("BATCH_S3_PREFIX", "batches")

    def __str__(self) -> str:
        return f"object store bucket {self.bucket}" if self.s3 else "files on disk"

    def names(self) -> set[str]:
        if not self.s3:
            return {path.name for path in Path(os.environ["BATCH_STORAGE_DIR"]).glob("*.zip")}
        listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.prefix}/")
        return {item["Key"].removeprefix(f"{self.prefix}/") for item in listing.get("Contents", [])}

    def holds(self, name: str) -> bool:
        return name in self.names()

    def read(self, name: str) -> bytes:
        if not self.s3:
            return (Path(os.environ["BATCH_STORAGE_DIR"]) / name).read_bytes()
        reply = self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{name}")
        return bytes(reply["Body"].read())


if __name__ == "__main__":
    sys.exit(main())
