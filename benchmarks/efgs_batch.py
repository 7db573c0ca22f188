"""Cost of one full EFGS batch on our side, in memory; prints one JSON line.

Usage: .venv/bin/python benchmarks/efgs_batch.py [--keys 5000] [--kind ec|rsa]

Upload side: canonical bytes, detached CMS signature, protobuf. Download side: decode, split
by the audit entries and verify each part (trust anchor, certificate, CMS signature). The
batch is the gateway's largest (5,000 keys), from 50 uploaders of 100 keys each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from authority.formats.efgs.batch import (
    DiagnosisKey,
    batch_signing_bytes,
    decode_batch,
    encode_batch,
)
from authority.formats.efgs.signing import (
    sign_batch,
    sign_with_trust_anchor,
    thumbprint,
)
from authority.formats.efgs.verification import AuditEntry, split_and_verify
from tests.federation.pki import certificate_authority, issue


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--kind", choices=["ec", "rsa"], default="ec")
    options = parser.parse_args()
    anchor = certificate_authority("anchor")
    signer = issue(None, common_name="DE signing", country="DE", usage="sign", kind=options.kind)
    start = int(datetime.now(UTC).timestamp()) // 600 - 300
    keys = [
        DiagnosisKey(os.urandom(16), start, 144, 0x7FFFFFFF, ("IT", "FR"), "DE", 1, 0)
        for _ in range(options.keys)
    ]

    began = time.perf_counter()
    signature = sign_batch(
        batch_signing_bytes(keys), certificate=signer.certificate, private_key=signer.key
    )
    body = encode_batch(keys)
    upload_seconds = time.perf_counter() - began

    per_upload = 100
    operator_signature = sign_with_trust_anchor(signer.cert_pem, anchor.key)
    entries = []
    for index in range(0, len(keys), per_upload):
        part = keys[index : index + per_upload]
        entries.append(
            AuditEntry(
                country="DE",
                uploaded_at=datetime.now(UTC),
                amount=len(part),
                batch_signature=sign_batch(
                    batch_signing_bytes(part),
                    certificate=signer.certificate,
                    private_key=signer.key,
                ),
                signing_thumbprint=thumbprint(signer.certificate),
                signing_certificate=signer.cert_pem,
                signing_certificate_signature=operator_signature,
            )
        )
    began = time.perf_counter()
    chunks = split_and_verify(
        decode_batch(body), entries, own_country="IT", trust_anchor=anchor.certificate
    )
    download_seconds = time.perf_counter() - began
    assert all(chunk.verified for chunk in chunks) and len(chunks) == len(entries)
    del signature

    print(
        json.dumps(
            {
                "benchmark": "efgs_batch",
                "keys": options.keys,
                "signature_kind": options.kind,
                "upload_sign_encode_seconds": round(upload_seconds, 4),
                "download_decode_verify_seconds": round(download_seconds, 4),
                "parts_verified": len(chunks),
                "body_bytes": len(body),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
