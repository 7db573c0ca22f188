"""Batch files on an S3-compatible object store (BATCH_STORAGE=s3, django-storages), here moto's
server started as its own process and reached over HTTP: publication writes the object, the
API serves exactly its bytes, retention deletes it, stray objects go after a day.

Skipped locally when moto is not installed; in CI (CI=true) that is a failure. The production
smoke test (scripts/production_smoke.sh) runs the same storage under gunicorn and Celery."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone

from authority.keys.models import Batch, PublicationRun
from authority.keys.selectors import retired_file_grace
from authority.keys.services import publication, retention, signing_keys
from authority.keys.services.storing import UploadedKey, store_uploaded_keys

MOTO_SERVER = Path(sys.executable).parent / "moto_server"
REGION = "eu-south-1"
PREFIX = "batches"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    if not MOTO_SERVER.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must run the object-store tests: moto_server is not installed")
        pytest.skip(
            "needs moto[server] (in requirements/dev.lock: python3 dev.py test installs it)"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # a server starting up, not a timing assertion
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(s3_endpoint: str, settings) -> Any:
    """A new private bucket, and the batch storage pointed at it as settings.py does for
    BATCH_STORAGE=s3. Returns a boto3 client and the bucket's name."""
    import boto3

    name = f"batches-{uuid.uuid4().hex[:12]}"
    credentials = {"aws_access_key_id": "test-access", "aws_secret_access_key": "test-secret"}
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **credentials)
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    settings.STORAGES = {
        **settings.STORAGES,
        "batches": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "location": PREFIX,
                "endpoint_url": s3_endpoint,
                "region_name": REGION,
                "access_key": credentials["aws_access_key_id"],
                "secret_key": credentials["aws_secret_access_key"],
                "file_overwrite": True,
                "default_acl": None,
            },
        },
    }
    settings.KEYS_EMBARGO_MINUTES = 0
    settings.KEYS_MIN_PER_FILE = 10
    return _Bucket(client, name)


class _Bucket:
    def __init__(self, client: Any, name: str) -> None:
        self.client, self.name = client, name

    def names(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.name, Prefix=f"{PREFIX}/")
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def read(self, file_name: str) -> bytes:
        return bytes(
            self.client.get_object(Bucket=self.name, Key=f"{PREFIX}/{file_name}")["Body"].read()
        )


def published_batch(lazio) -> Batch:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    keys = [
        UploadedKey(
            key_data=os.urandom(16),
            rolling_start_interval_number=int((today - timedelta(days=3)).timestamp()) // 600,
        )
        for _ in range(3)
    ]
    store_uploaded_keys(
        keys=keys, region_id=lazio.pk, onset_date=None, uploaded_on=timezone.localdate()
    )
    signing_keys.rotate_signing_key(actor=None)
    run = publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    assert publication.run_publication(run_id=run.pk).status == "succeeded"
    return Batch.objects.get(status=Batch.Status.PUBLISHED)


def test_the_api_serves_the_bytes_the_bucket_holds(bucket, lazio):
    batch = published_batch(lazio)

    assert bucket.names() == [f"{PREFIX}/{batch.file_name}"]
    response = Client().get(f"/v1/keys/{batch.index}")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert isinstance(response, StreamingHttpResponse)  # streamed from the bucket, not loaded
    served = b"".join(response.streaming_content)
    assert served == bucket.read(batch.file_name)
    assert hashlib.sha256(served).hexdigest() == batch.sha256 and len(served) == batch.size


def test_retention_takes_the_batch_out_of_the_index_then_deletes_its_object(bucket, lazio):
    batch = published_batch(lazio)
    assert batch.published_at is not None
    leaves_index = batch.published_at + timedelta(days=14, minutes=1)

    assert retention.apply_retention(now=leaves_index).batches_retired == 1
    assert bucket.names() == [f"{PREFIX}/{batch.file_name}"]  # cached indexes may name it

    report = retention.apply_retention(
        now=leaves_index + retired_file_grace() + timedelta(minutes=1)
    )

    assert report.files_deleted == 1 and bucket.names() == []
    assert Client().get(f"/v1/keys/{batch.index}").status_code == 404


def test_retention_deletes_an_object_no_batch_names_a_day_after_it_was_written(bucket, lazio):
    published_batch(lazio)
    # A stalled run's file: batch 99, the run's lease token 7 (retention deletes nothing else).
    stray = f"{PREFIX}/00000099-7.zip"
    bucket.client.put_object(Bucket=bucket.name, Key=stray, Body=b"PK")

    assert retention.apply_retention().files_deleted == 0
    assert stray in bucket.names()

    assert (
        retention.apply_retention(now=timezone.now() + timedelta(days=1, minutes=1)).files_deleted
        == 1
    )
    assert stray not in bucket.names() and len(bucket.names()) == 1  # the batch's own stays
