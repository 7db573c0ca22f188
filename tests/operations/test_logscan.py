"""The log scan the production smoke test runs: it fails, naming file and line, on an address
or a secret, and passes clean logs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from authority.operations.logscan import main, scan_files, scan_lines

TOKEN = "cbkz4p-0123456789abcdef0123456789abcdef"


def found(line: str, **secrets: str) -> list[str]:
    return [
        finding.what
        for finding in scan_lines(
            [line], file="x.log", secrets={k: [v] for k, v in secrets.items()}
        )
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Invalid request from ip=127.0.0.1: Invalid HTTP request line: 'x'",
        "Listening at: http://127.0.0.1:8000 (1)",
        "- Broken pipe from ('192.168.1.20', 52814)",
        "client 203.0.113.7.",
        "Invalid request from ip=::1: bad",
        "[::1]:8000",
        "from fe80::1%eth0",
        "X-Forwarded-For: 198.51.100.23, 2001:db8::17",
        "mapped ::ffff:10.0.0.1",
        "unspecified ::",
    ],
)
def test_it_finds_an_address(line):
    assert set(found(line)) == {"an IP address"}


@pytest.mark.parametrize(
    "line",
    [
        '[03/Dec/2026:10:11:24 +0100] "POST /v1/ingestion/upload" 204 0 174ms',
        "[2026-12-03 10:11:19,040: INFO/MainProcess] Connected to redis://[redacted]@[address]:6383/13",
        "celery@vm v5.7.0 (collider) Linux-6.18.44-fc-v1147-x86_64 at 12:30:45 2026:08:38:12",
        "Task tasks.publishing.publish_keys[6db01314-f928-464c-b64d-50cb5c60620c] received",
        "signature algorithm 1.2.840.10045.4.3.2, 999.1.1.1 is no address",
        "app: authority:0x7fc143956b50 MAC 00:1a:2b:3c:4d:5e",
    ],
)
def test_it_passes_lines_without_addresses(line):
    assert found(line) == []


def test_it_finds_a_secret_and_its_encodings():
    key = base64.b64encode(bytes(range(250, 256)) + b"0123456789").decode()  # has + and /
    assert "+" in key or "/" in key

    assert found(f"GET /accounts/invitation/MQ/{TOKEN}/", token=TOKEN) == ["token"]
    assert found("bearer " + "AB" * 32, hash="ab" * 32) == ["hash"]  # hex in any case
    assert found(f"key {key.rstrip('=')}", key=key) == ["key"]
    urlsafe = key.replace("+", "-").replace("/", "_")
    assert found(f"key {urlsafe}", key=key) == ["key"]
    assert found("pw=a%20long%20password", password="a long password") == ["password"]


def test_a_short_secret_is_found_as_a_whole_token_only():
    assert found("GET /accounts/invitation/Mg/x/", uid="Mg") == ["uid"]
    assert found("Mgmt Images omg", uid="Mg") == []


def test_each_finding_names_file_and_line_and_masks_what_it_found(tmp_path: Path):
    log = tmp_path / "gunicorn-error.log"
    log.write_text(f"clean line\nip=10.0.0.1 sent {TOKEN}\n")

    findings = scan_files([log], secrets={"invitation token": [TOKEN]})

    assert [(f.file, f.line_number, f.what) for f in findings] == [
        (str(log), 2, "an IP address"),
        (str(log), 2, "invitation token"),
    ]
    assert str(findings[1]) == (
        f"{log}:2: invitation token: ip=«an IP address» sent «invitation token»"
    )


def test_a_line_is_shown_with_every_finding_masked():
    link = f"/accounts/invitation/Mg/{TOKEN}/"
    secrets = {"link": [link], "uid": ["Mg"], "token": [TOKEN]}

    findings = scan_lines([f"ip=::1 GET {link} then {TOKEN}\n"], file="x.log", secrets=secrets)

    assert {finding.shown for finding in findings} == {"ip=«an IP address» GET «link» then «token»"}


def test_the_command_fails_on_a_finding_and_passes_clean_logs(tmp_path: Path, capsys):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"OTP": ["KJ23IWY5UJ"], "session id": "abc123def456"}))
    clean = tmp_path / "clean.log"
    clean.write_text("[address] asked for /v1/keys/index\n")
    dirty = tmp_path / "dirty.log"
    dirty.write_text("fine\ncode KJ23IWY5UJ typed\n")

    assert main(["--secrets", str(secrets), str(clean)]) == 0
    assert main(["--secrets", str(secrets), str(clean), str(dirty)]) == 1

    printed = capsys.readouterr().out
    assert f"{dirty}:2: OTP: code «OTP» typed" in printed
    assert "KJ23IWY5UJ" not in printed  # the scan does not spread what it found
    assert "log scan: 1 finding(s) in 2 file(s), 3 lines, 2 secret(s) searched" in printed
