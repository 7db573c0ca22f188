"""Finds what no log may hold (DESIGN.md 3.3) in log files: any IP address, and secrets given
by value (an invitation's token, an OTP, its hash, key data, session ids, ...).

The production smoke test (scripts/production_smoke.sh) runs it on the logs of every process
it started, with the secrets its scenario used; it also runs on real logs:

    python -m authority.operations.logscan [--secrets FILE.json] LOG_FILE...

FILE.json maps a description to a value or a list of values. Each finding is printed as
`file:line: what`, the line shown with every finding masked (the scan must not spread what it
found), and the exit status is 1 when anything was found.

Written apart from RedactSecrets (authority/operations/logging.py) on purpose: a check that
shared its rules could not catch their mistakes.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import ipaddress
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

# Secrets shorter than this are searched as whole tokens only: "Mg" (an invitation's uid) is
# inside many words.
SHORT_SECRET = 8
_TOKEN_CHARACTER = "A-Za-z0-9_-"


@dataclass(frozen=True)
class Finding:
    file: str
    line_number: int
    what: str
    shown: str  # the line, what was found masked

    def __str__(self) -> str:
        return f"{self.file}:{self.line_number}: {self.what}: {self.shown}"


def addresses_in(line: str) -> Iterator[tuple[int, int]]:
    """Spans of the IPv4 and IPv6 literals in `line`."""
    # IPv6 (with IPv4-mapped forms): runs of hex digits, dots and colons, at least two colons,
    # without the punctuation around them ("::1:" in "ip=::1: ...", "[::1]").
    for run in re.finditer(r"[0-9A-Fa-f:.]+", line):
        text = run[0]
        if text.count(":") >= 2:
            core = text.strip(".")
            if not _is_address(core) and core.endswith(":"):
                core = core[:-1]  # "ip=::1: Invalid request"
            if _is_address(core):
                start = run.start() + text.index(core)
                yield start, start + len(core)
                continue
        for quad in re.finditer(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])", text):
            if _is_address(quad[0]):
                yield run.start() + quad.start(), run.start() + quad.end()


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def forms_of(secret: str) -> set[str]:
    """The ways `secret` may be written in a log line: as it is, percent-encoded, base64
    without its padding or in its URL-safe alphabet."""
    forms = {secret, quote(secret, safe="")}
    if secret.endswith("="):
        forms.add(secret.rstrip("="))
    try:
        raw = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if raw and len(secret) >= SHORT_SECRET:
        urlsafe = base64.urlsafe_b64encode(raw).decode()
        forms |= {urlsafe, urlsafe.rstrip("=")}
    return {form for form in forms if form}


def _secret_patterns(secrets: Mapping[str, Iterable[str]]) -> list[tuple[str, re.Pattern[str]]]:
    patterns = []
    for what, values in secrets.items():
        for value in values:
            for form in forms_of(value):
                text = re.escape(form)
                if len(form) < SHORT_SECRET:
                    text = rf"(?<![{_TOKEN_CHARACTER}]){text}(?![{_TOKEN_CHARACTER}])"
                hex_only = re.fullmatch(r"[0-9A-Fa-f]+", form) is not None
                patterns.append((what, re.compile(text, re.IGNORECASE if hex_only else 0)))
    return patterns


def scan_lines(
    lines: Iterable[str], *, file: str, secrets: Mapping[str, Iterable[str]]
) -> list[Finding]:
    patterns = _secret_patterns(secrets)
    findings = []
    for number, line in enumerate(lines, start=1):
        spans = [(start, end, "an IP address") for start, end in addresses_in(line)]
        for what, pattern in patterns:
            spans += [(found.start(), found.end(), what) for found in pattern.finditer(line)]
        # One finding per place and kind, though several forms of a secret match there.
        spans = sorted({(start, what): (start, end, what) for start, end, what in spans}.values())
        shown = _masked(line.rstrip("\n"), spans)
        findings += [Finding(file, number, what, shown) for _start, _end, what in spans]
    return findings


def _masked(line: str, spans: list[tuple[int, int, str]]) -> str:
    """The line with every finding replaced by «what it is» (overlapping ones by the longest)."""
    shown, position = [], 0
    for start, end, what in sorted(spans, key=lambda span: (span[0], -span[1])):
        if start < position:  # inside a finding already masked
            continue
        shown += [line[position:start], f"«{what}»"]
        position = end
    return "".join([*shown, line[position:]])


def scan_files(paths: Sequence[Path], *, secrets: Mapping[str, Iterable[str]]) -> list[Finding]:
    findings = []
    for path in paths:
        with path.open(encoding="utf-8", errors="replace") as lines:
            findings += scan_lines(lines, file=str(path), secrets=secrets)
    return findings


def load_secrets(path: Path) -> dict[str, list[str]]:
    loaded = json.loads(path.read_text())
    return {
        what: [value] if isinstance(value, str) else [str(item) for item in value]
        for what, value in loaded.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", type=Path, help="JSON: description -> value or values")
    parser.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args(argv)
    secrets = load_secrets(args.secrets) if args.secrets else {}
    findings = scan_files(args.files, secrets=secrets)
    for finding in findings:
        print(finding)
    lines = sum(1 for path in args.files for _ in path.open(errors="replace"))
    print(
        f"log scan: {len(findings)} finding(s) in {len(args.files)} file(s), {lines} lines, "
        f"{sum(len(values) for values in secrets.values())} secret(s) searched"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
