"""Publication: what ends up in the files, exactly once, whatever happens to the workers."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from authority.keys.models import (
    Batch,
    ExposureKey,
    PublicationLock,
    PublicationRun,
    SigningKey,
)
from authority.keys.services import publication, signing_keys, storing
from authority.statistics.models import DailyCounter
from tasks.publishing import publish_on_schedule
from tests.keys.conftest import day_interval, uploaded_key, with_a_signing_key
from tests.keys.gaen_reader import read_batch, signature_verifies

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_files")]


def publish(user=None) -> PublicationRun:
    with_a_signing_key()
    run = publication.request_publication(requested_by=user, trigger=PublicationRun.Trigger.COMMAND)
    return publication.run_publication(run_id=run.pk)


def published_key_data(client: Client) -> list[bytes]:
    """Every key in every file of the index, as a phone would download them."""
    index = client.get("/v1/keys/index").json()
    keys: list[bytes] = []
    for number in range(index["oldest"], index["newest"] + 1):
        _bin, export, _sigs = read_batch(client.get(f"/v1/keys/{number}").getvalue())
        keys.extend(key.key_data for key in export.keys)
    return keys


def test_a_stored_key_ends_up_in_a_download_that_verifies_with_the_published_key(
    store_keys, signing_key, administrator, signed_in, django_capture_on_commit_callbacks
):
    [key] = store_keys(1)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(administrator).post("/publishing/publish/")
    assert response.status_code == 302
    assert response["Location"] == "/publishing/"

    phone = Client()
    assert phone.get("/v1/keys/index").json() == {"oldest": 1, "newest": 1}
    download = phone.get("/v1/keys/1")
    assert download["Content-Type"] == "application/zip"
    export_bin, export, signatures = read_batch(download.getvalue())
    [published] = [k for k in export.keys if k.key_data == key.key_data]
    assert published.rolling_start_interval_number == key.rolling_start_interval_number
    assert published.rolling_period == 144
    assert published.report_type == 1  # CONFIRMED_TEST
    assert published.days_since_onset_of_symptoms == 1  # onset the day before the key
    assert (export.region, export.batch_num, export.batch_size) == ("222", 1, 1)

    [public] = phone.get("/v1/keys/public-keys").json()["keys"]
    [signature] = signatures.signatures
    assert signature.signature_info.verification_key_id == public["verification_key_id"] == "222"
    assert signature.signature_info.verification_key_version == public["verification_key_version"]
    assert signature.signature_info.signature_algorithm == "1.2.840.10045.4.3.2"
    assert export.signature_infos[0] == signature.signature_info
    assert signature_verifies(export_bin, signature.signature, public["public_key"])
    assert signature_verifies(
        export_bin, signature.signature, phone.get("/v1/keys/public-key.pem").content.decode()
    )


def test_small_batches_are_padded_with_keys_that_look_like_the_real_ones(store_keys, client):
    real = store_keys(3, days_ago=4) + store_keys(1, days_ago=6, transmission_risk_level=5)
    publish()
    _bin, export, _sigs = read_batch(client.get("/v1/keys/1").getvalue())
    assert len(export.keys) == 10
    real_metadata = {
        (k.rolling_start_interval_number, k.transmission_risk_level or 0) for k in real
    }
    for key in export.keys:
        assert len(key.key_data) == 16
        assert (key.rolling_start_interval_number, key.transmission_risk_level) in real_metadata
        assert key.report_type == 1
    batch = Batch.objects.get()
    assert (batch.key_count, batch.padding_count) == (4, 6)
    assert {k.key_data for k in real} <= {k.key_data for k in export.keys}


def test_keys_in_a_file_are_sorted_by_key_bytes(store_keys, client, settings):
    settings.KEYS_MIN_PER_FILE = 0
    store_keys(25)
    publish()
    _bin, export, _sigs = read_batch(client.get("/v1/keys/1").getvalue())
    key_data = [key.key_data for key in export.keys]
    assert key_data == sorted(key_data) and len(key_data) == 25


def test_big_batches_are_split_into_files_of_at_most_the_maximum(store_keys, client, settings):
    settings.KEYS_MAX_PER_FILE = 4
    settings.KEYS_MIN_PER_FILE = 0
    keys = store_keys(10)
    run = publish()
    assert run.keys_selected == 10 and run.files_published >= 3
    assert client.get("/v1/keys/index").json() == {"oldest": 1, "newest": run.files_published}
    key_counts = list(Batch.objects.values_list("key_count", flat=True))
    assert sum(key_counts) == 10 and max(key_counts) <= 4
    published = published_key_data(client)
    assert sorted(published) == sorted(key.key_data for key in keys)


def test_keys_are_published_only_after_their_validity_and_the_embargo(lazio, client, settings):
    settings.KEYS_EMBARGO_MINUTES = 120
    now = int(timezone.now().timestamp()) // 600
    ended_3h_ago = uploaded_key(rolling_start_interval_number=now - 144 - 18)
    ended_1h_ago = uploaded_key(rolling_start_interval_number=now - 144 - 6)
    still_valid = uploaded_key(rolling_start_interval_number=now - 100)
    storing.store_uploaded_keys(
        keys=[ended_3h_ago, ended_1h_ago, still_valid],
        region_id=lazio.pk,
        onset_date=None,
        uploaded_on=timezone.localdate(),
    )
    publish()
    published = set(published_key_data(client))
    assert ended_3h_ago.key_data in published
    assert ended_1h_ago.key_data not in published and still_valid.key_data not in published
    assert ExposureKey.objects.filter(batch__isnull=True).count() == 2


def test_a_second_run_publishes_nothing_twice(store_keys, client):
    store_keys(3)
    publish()
    again = publish()
    assert again.status == PublicationRun.Status.SUCCEEDED
    assert again.files_published == 0
    assert client.get("/v1/keys/index").json() == {"oldest": 1, "newest": 1}


def test_keys_that_arrive_later_go_into_the_next_batch(store_keys, client):
    first = store_keys(2)
    publish()
    second = store_keys(2)
    publish()
    assert client.get("/v1/keys/index").json() == {"oldest": 1, "newest": 2}
    _bin, export, _sigs = read_batch(client.get("/v1/keys/2").getvalue())
    in_second_file = {key.key_data for key in export.keys}
    assert {key.key_data for key in second} <= in_second_file
    assert not {key.key_data for key in first} & in_second_file


def test_the_batch_record_describes_its_file(store_keys, storage, administrator):
    signing_keys.rotate_signing_key(actor=administrator)
    signing_keys.rotate_signing_key(actor=administrator)
    keys = store_keys(3, days_ago=2)
    publish()
    batch = Batch.objects.get()
    with storage.open(batch.file_name) as stored:
        content = stored.read()
    assert batch.size == len(content)
    assert batch.sha256 == hashlib.sha256(content).hexdigest()
    assert batch.signing_key_versions == "v2,v1"
    assert batch.status == Batch.Status.PUBLISHED and batch.published_at is not None
    # The first file's window: from its oldest key's start to the claim (see test_claims).
    assert batch.period_start.timestamp() == keys[0].rolling_start_interval_number * 600
    assert batch.period_end <= batch.published_at
    assert set(ExposureKey.objects.values_list("batch", flat=True)) == {batch.pk}


def test_during_a_rotation_files_carry_both_signatures_newest_first(
    store_keys, client, administrator
):
    old = signing_keys.rotate_signing_key(actor=administrator)
    new = signing_keys.rotate_signing_key(actor=administrator)
    store_keys(2)
    publish()
    export_bin, export, signatures = read_batch(client.get("/v1/keys/1").getvalue())
    versions = [s.signature_info.verification_key_version for s in signatures.signatures]
    assert versions == ["v2", "v1"]
    assert [info.verification_key_version for info in export.signature_infos] == ["v2", "v1"]
    assert signature_verifies(export_bin, signatures.signatures[0].signature, new.public_key_pem)
    assert signature_verifies(export_bin, signatures.signatures[1].signature, old.public_key_pem)


def test_a_crash_after_the_files_are_written_publishes_nothing_and_the_next_run_publishes_all(
    store_keys, client, monkeypatch, batch_files
):
    keys = store_keys(5)
    real_commit = publication.commit_publication

    def crash(**kwargs):
        raise RuntimeError("worker lost before commit")

    monkeypatch.setattr(publication, "commit_publication", crash)
    with pytest.raises(RuntimeError):
        publish()
    failed = PublicationRun.objects.get()
    assert failed.status == PublicationRun.Status.FAILED
    assert "worker lost before commit" in failed.message
    assert failed.files_written == 1
    assert client.get("/v1/keys/index").json()["error_code"] == 1301
    assert client.get("/v1/keys/1").status_code == 404
    [orphan] = batch_files()

    monkeypatch.setattr(publication, "commit_publication", real_commit)
    rerun = publish()
    assert rerun.status == PublicationRun.Status.SUCCEEDED
    assert client.get("/v1/keys/index").json() == {"oldest": 1, "newest": 1}
    assert sorted(
        k for k in published_key_data(client) if k in {key.key_data for key in keys}
    ) == sorted(key.key_data for key in keys)
    assert orphan not in batch_files() and len(batch_files()) == 1


def test_a_run_whose_worker_died_is_completed_by_the_next_run_after_its_lease(store_keys, client):
    keys = store_keys(4)
    dead = publication.request_publication(
        requested_by=None, trigger=PublicationRun.Trigger.SCHEDULE
    )
    token = publication._acquire_lease(dead, "worker-that-dies")
    publication._Publication(dead, token)._claim_keys()  # ... then SIGKILL: nothing else happens

    with pytest.raises(publication.PublicationAlreadyRunning):
        publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.MANUAL)
    PublicationLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    successor = publish()
    assert successor.status == PublicationRun.Status.SUCCEEDED
    dead.refresh_from_db()
    assert dead.status == PublicationRun.Status.FAILED and "Interrupted" in dead.message
    assert sorted(published_key_data(client)) == sorted(set(published_key_data(client)))
    assert {key.key_data for key in keys} <= set(published_key_data(client))
    assert client.get("/v1/keys/index").json() == {"oldest": 1, "newest": 1}


def test_an_adopted_batch_naming_a_file_it_never_had_leaves_that_file_alone(
    store_keys, client, batch_storage_dir, caplog
):
    """Someone who can write the database points a pending batch at another file of the
    storage (an audit checkpoint): the next run writes the batch's own file and deletes
    nothing it did not write."""
    store_keys(4)
    dead = publication.request_publication(
        requested_by=None, trigger=PublicationRun.Trigger.SCHEDULE
    )
    token = publication._acquire_lease(dead, "worker-that-dies")
    publication._Publication(dead, token)._claim_keys()
    PublicationLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    checkpoint = batch_storage_dir / "audit-checkpoints" / "2026-12-03" / "091500Z-p3.json"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_text("{}")
    pending = Batch.objects.get(status=Batch.Status.PENDING)
    Batch.objects.filter(pk=pending.pk).update(
        file_name="audit-checkpoints/2026-12-03/091500Z-p3.json"
    )

    assert publish().status == PublicationRun.Status.SUCCEEDED

    assert checkpoint.read_text() == "{}"
    published = Batch.objects.get(pk=pending.pk)
    assert publication.is_batch_file_name(published.file_name, batch_pk=published.pk)
    assert client.get("/v1/keys/1").status_code == 200
    assert "which is not one of its files: not deleted" in caplog.text


def test_only_names_of_the_shape_publication_writes_are_batch_files():
    assert publication.batch_file_name(batch_pk=7, token=12) == "00000007-12.zip"
    assert publication.is_batch_file_name("00000007-12.zip", batch_pk=7)
    assert publication.is_batch_file_name("123456789-1.zip", batch_pk=123456789)
    assert publication.is_batch_file_name("00000007-12.zip")
    for name in [
        "00000007-12.zip",  # another batch's file
        "00000008-0.zip",  # tokens start at 1
        "000000008-1.zip",  # a leading zero too many
        "0000008-1.zip",
        "00000008-1.ZIP",
        "00000008-1.zip.json",
        "dir/00000008-1.zip",
        "../00000008-1.zip",
        "audit-checkpoints/2026-12-03/091500.000000Z-p000000000003.json",
        "00000008-1.zip\n",
        "",
    ]:
        assert not publication.is_batch_file_name(name, batch_pk=8), name


def test_a_run_that_lost_its_lease_cannot_publish_what_another_run_published(store_keys, client):
    store_keys(4)
    slow = publication.request_publication(
        requested_by=None, trigger=PublicationRun.Trigger.SCHEDULE
    )
    token = publication._acquire_lease(slow, "slow-worker")
    slow_publication = publication._Publication(slow, token)
    batches = slow_publication._claim_keys()
    PublicationLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    publish()  # takes over and publishes the claimed keys

    with pytest.raises(publication.PublicationSuperseded):
        publication.commit_publication(
            run=slow, token=token, batches=batches, keys_by_region=slow_publication.keys_by_region
        )
    with pytest.raises(publication.PublicationSuperseded):
        slow_publication._report()
    assert Batch.objects.filter(status=Batch.Status.PUBLISHED).count() == 1
    assert len(published_key_data(client)) == 10


def test_a_duplicate_delivery_of_a_finished_run_does_nothing(store_keys):
    store_keys(2)
    run = publish()
    assert publication.run_publication(run_id=run.pk).status == PublicationRun.Status.SUCCEEDED
    assert Batch.objects.count() == 1


def test_a_run_finding_the_lease_taken_is_skipped(store_keys):
    store_keys(2)
    holder = publication.request_publication(
        requested_by=None, trigger=PublicationRun.Trigger.SCHEDULE
    )
    publication._acquire_lease(holder, "w1")
    other = PublicationRun.objects.create(trigger=PublicationRun.Trigger.SCHEDULE)
    assert publication.run_publication(run_id=other.pk).status == PublicationRun.Status.SKIPPED
    assert not Batch.objects.exists()


def test_only_one_publication_can_be_requested_at_a_time(administrator):
    first = publication.request_publication(
        requested_by=administrator, trigger=PublicationRun.Trigger.MANUAL
    )
    with pytest.raises(publication.PublicationAlreadyRunning) as running:
        publication.request_publication(
            requested_by=administrator, trigger=PublicationRun.Trigger.MANUAL
        )
    assert running.value.run == first


def test_a_queued_run_that_no_worker_took_stops_blocking_after_a_while(administrator, settings):
    stuck = publication.request_publication(
        requested_by=administrator, trigger=PublicationRun.Trigger.MANUAL
    )
    PublicationRun.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - timedelta(minutes=16)
    )
    publication.request_publication(
        requested_by=administrator, trigger=PublicationRun.Trigger.MANUAL
    )
    stuck.refresh_from_db()
    assert stuck.status == PublicationRun.Status.FAILED and "Never started" in stuck.message


@pytest.mark.parametrize("production", [True, False])
def test_without_a_signing_key_the_publication_fails_and_nothing_is_claimed(
    store_keys, settings, production
):
    """In development too: no key is invented; seed_demo and the tests create theirs."""
    settings.PRODUCTION = production
    store_keys(2)
    run = publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    with pytest.raises(signing_keys.SigningKeyError):
        publication.run_publication(run_id=run.pk)
    assert not SigningKey.objects.exists()
    run = PublicationRun.objects.get()
    assert run.status == PublicationRun.Status.FAILED and "No signing key" in run.message
    assert not ExposureKey.objects.filter(batch__isnull=False).exists()
    assert PublicationLock.objects.get().run is None


def test_publication_counts_keys_per_region_and_audits(store_keys, lombardia, administrator):
    store_keys(3)
    store_keys(2, region=lombardia)
    publish(administrator)
    counters = {
        (c.metric, c.region_id): c.value for c in DailyCounter.objects.exclude(metric="keys_stored")
    }
    lazio_id = ExposureKey.objects.exclude(region=lombardia).first().region_id
    assert counters[("keys_published", lazio_id)] == 3
    assert counters[("keys_published", lombardia.pk)] == 2
    assert counters[("batches_published", 0)] == 1
    assert counters[("padding_keys_published", 0)] == 5
    finished = AuditEntry.objects.get(action=Action.PUBLICATION_FINISHED)
    assert finished.details["outcome"] == "succeeded" and finished.details["keys"] == 5


def test_the_schedule_publishes_and_stays_quiet_when_nothing_is_due(
    store_keys, signing_key, client
):
    assert publish_on_schedule.delay().get() == "succeeded"
    assert not AuditEntry.objects.filter(action=Action.PUBLICATION_FINISHED).exists()
    store_keys(2)
    assert publish_on_schedule.delay().get() == "succeeded"
    assert client.get("/v1/keys/index").json() == {"oldest": 1, "newest": 1}
    assert PublicationRun.objects.filter(trigger=PublicationRun.Trigger.SCHEDULE).count() == 2


def test_the_schedule_skips_while_a_publication_is_running(administrator):
    publication.request_publication(
        requested_by=administrator, trigger=PublicationRun.Trigger.MANUAL
    )
    assert publish_on_schedule.delay().get() == "already running"


def test_publish_keys_command(store_keys, signing_key, capsys):
    from django.core.management import call_command

    store_keys(2)
    call_command("publish_keys")
    assert "1 file(s), 2 keys, 8 padding keys" in capsys.readouterr().out


def test_keys_can_be_stored_while_being_published(store_keys, monkeypatch):
    """An upload landing between the claim and the commit waits for the next run."""
    store_keys(2)
    real_commit = publication.commit_publication
    late = []

    def commit_after_an_upload(**kwargs):
        late.extend(store_keys(1))
        real_commit(**kwargs)

    monkeypatch.setattr(publication, "commit_publication", commit_after_an_upload)
    publish()
    late_key = ExposureKey.objects.get(key_data=late[0].key_data)
    assert not late_key.batch.exists()
    monkeypatch.setattr(publication, "commit_publication", real_commit)
    publish()
    assert late_key.batch.get().index == 2


def test_day_interval_helper_is_midnight_utc():
    assert day_interval(0) % 144 == 0


def test_a_file_never_exceeds_the_maximum_even_when_keys_share_bytes(lazio, client, settings):
    settings.KEYS_MAX_PER_FILE = 2
    settings.KEYS_MIN_PER_FILE = 0
    same = b"\x05" * 16
    keys = [
        uploaded_key(key_data=same, rolling_start_interval_number=day_interval(days))
        for days in (2, 3, 4)
    ]
    storing.store_uploaded_keys(
        keys=keys, region_id=lazio.pk, onset_date=None, uploaded_on=timezone.localdate()
    )
    publish()
    assert sorted(Batch.objects.values_list("key_count", flat=True)) == [1, 2]
    assert published_key_data(client) == [same, same, same]
