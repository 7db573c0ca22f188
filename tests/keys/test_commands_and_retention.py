"""inspect_batch, and retention of keys, batches and stray files."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from authority.formats.gaen.signing import generate_private_key, public_key_pem
from authority.keys.models import Batch, ClaimedKey, ExposureKey, PublicationRun, SigningKey
from authority.keys.services import publication, retention, storing
from tasks.publishing import apply_retention
from tests.keys.conftest import day_interval, uploaded_key, with_a_signing_key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_files")]


def publish() -> PublicationRun:
    with_a_signing_key()
    run = publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    return publication.run_publication(run_id=run.pk)


@pytest.fixture
def batch_zip(store_keys, client, tmp_path):
    store_keys(3)
    publish()
    path = tmp_path / "batch-1.zip"
    path.write_bytes(client.get("/v1/keys/1").getvalue())
    return path


@pytest.fixture
def public_pem(batch_zip, tmp_path):
    path = tmp_path / "public.pem"
    path.write_text(SigningKey.objects.get().public_key_pem)
    return path


def test_inspect_batch_describes_the_file(batch_zip, capsys):
    call_command("inspect_batch", str(batch_zip))
    output = capsys.readouterr().out
    assert "region:          '222'" in output
    assert "Keys: 10" in output
    assert "not checked (no public key given)" in output


def test_inspect_batch_verifies_with_the_published_key(batch_zip, public_pem, capsys):
    call_command("inspect_batch", str(batch_zip), "--public-key", str(public_pem))
    assert "verified with the given public key" in capsys.readouterr().out


def test_inspect_batch_fails_with_another_key(batch_zip, tmp_path):
    other = tmp_path / "other.pem"
    other.write_bytes(public_key_pem(generate_private_key()))
    with pytest.raises(CommandError, match="No signature verifies"):
        call_command("inspect_batch", str(batch_zip), "--public-key", str(other))


def test_inspect_batch_rejects_what_is_not_an_export(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="Not a zip"):
        call_command("inspect_batch", str(junk))
    with pytest.raises(CommandError, match="No such file"):
        call_command("inspect_batch", str(tmp_path / "missing.zip"))


def test_retention_deletes_keys_14_days_after_their_validity(lazio):
    old = uploaded_key(rolling_start_interval_number=day_interval(16))
    recent = uploaded_key(rolling_start_interval_number=day_interval(14))
    storing.store_uploaded_keys(
        keys=[old, recent], region_id=lazio.pk, onset_date=None, uploaded_on=timezone.localdate()
    )
    report = retention.apply_retention()
    assert report.keys_deleted == 1
    assert [bytes(k) for k in ExposureKey.objects.values_list("key_data", flat=True)] == [
        recent.key_data
    ]


def test_retention_keeps_keys_of_a_batch_being_written(lazio):
    storing.store_uploaded_keys(
        keys=[uploaded_key(rolling_start_interval_number=day_interval(16))],
        region_id=lazio.pk,
        onset_date=None,
        uploaded_on=timezone.localdate(),
    )
    run = PublicationRun.objects.create(trigger=PublicationRun.Trigger.SCHEDULE)
    batch = Batch.objects.create(run=run)
    ClaimedKey.objects.create(key=ExposureKey.objects.get(), batch=batch)
    assert retention.apply_retention().keys_deleted == 0


def test_retention_takes_old_batches_out_of_the_index_and_deletes_their_files(
    store_keys, client, batch_files
):
    store_keys(1)
    publish()
    store_keys(1)
    publish()
    old = Batch.objects.get(index=1)
    Batch.objects.filter(pk=old.pk).update(
        published_at=timezone.now() - timedelta(days=14, minutes=1)
    )
    assert apply_retention.delay().get() == {
        "keys_deleted": 0,
        "batches_retired": 1,
        "files_deleted": 0,
    }
    old.refresh_from_db()
    assert old.status == Batch.Status.RETIRED and old.retired_at is not None
    assert client.get("/v1/keys/index").json() == {"oldest": 2, "newest": 2}
    # A phone or a cache may hold an index from a moment ago that still names batch 1.
    assert client.get("/v1/keys/1").status_code == 200
    assert old.file_name in batch_files()

    # At the next day's run, no index that names it can be around any more.
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert retention.apply_retention().files_deleted == 1
        assert client.get("/v1/keys/1").status_code == 404
    assert old.file_name not in batch_files()
    # Numbers are never reused.
    store_keys(1)
    publish()
    assert client.get("/v1/keys/index").json() == {"oldest": 2, "newest": 3}


def test_retention_removes_stray_files_once_they_are_old(
    store_keys, storage, batch_storage_dir, batch_files
):
    store_keys(1)
    publish()
    stray = batch_storage_dir / "00000099-1.zip"
    stray.write_bytes(b"left by a worker that stalled")
    assert retention.apply_retention().files_deleted == 0  # could still be being written
    day_ago = time.time() - 2 * 86400
    os.utime(stray, (day_ago, day_ago))
    assert retention.apply_retention().files_deleted == 1
    assert batch_files() == [Batch.objects.get().file_name]


def test_retention_deletes_only_a_retired_batchs_own_file(
    store_keys, batch_storage_dir, batch_files, caplog
):
    """Retired batch rows written by someone with database access, naming files that are not
    theirs (an audit checkpoint, a file outside the storage's top level, another batch's
    file): retention deletes none of them."""
    store_keys(1)
    publish()
    [live] = batch_files()
    checkpoint = batch_storage_dir / "audit-checkpoints" / "2026-12-03" / "091500Z-p3.json"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_text("{}")
    long_ago = timezone.now() - timedelta(days=30)
    for name in ["audit-checkpoints/2026-12-03/091500Z-p3.json", "../batches/" + live, live]:
        Batch.objects.create(
            run=PublicationRun.objects.get(),
            status=Batch.Status.RETIRED,
            file_name=name,
            published_at=long_ago,
            retired_at=long_ago,
        )

    assert retention.apply_retention().files_deleted == 0

    assert checkpoint.read_text() == "{}"
    assert batch_files() == [live, "audit-checkpoints"]
    assert caplog.text.count("which is not one of its files: not deleted") == 3
    assert not Batch.objects.filter(status=Batch.Status.RETIRED).exclude(file_name="").exists()


def test_retention_sweeps_only_stray_files_of_the_batch_files_shape(
    store_keys, batch_storage_dir, batch_files
):
    store_keys(1)
    publish()
    [live] = batch_files()
    day_ago = time.time() - 2 * 86400
    for name in ["notes.zip", "backup-00000099-1.zip", "00000099-1.zip"]:
        (batch_storage_dir / name).write_bytes(b"old")
        os.utime(batch_storage_dir / name, (day_ago, day_ago))

    assert retention.apply_retention().files_deleted == 1

    assert batch_files() == [live, "backup-00000099-1.zip", "notes.zip"]
