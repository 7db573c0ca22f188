"""Exactly-once publication under real concurrency: threads on PostgreSQL, and real Celery
worker processes, one of them killed with SIGKILL in the middle of a publication."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from authority.accounts.models import Region
from authority.keys.models import Batch, ExposureKey, PublicationRun
from authority.keys.services import publication, signing_keys
from tests.keys.conftest import day_interval
from tests.keys.gaen_reader import read_batch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def region(transactional_db) -> Region:
    # Transactional tests flush the tables, data migrations included: make our own region.
    region, _ = Region.objects.get_or_create(
        code="99", defaults={"name": "Concurrency test region"}
    )
    return region


def insert_keys(region: Region, count: int) -> set[bytes]:
    keys = [secrets.token_bytes(16) for _ in range(count)]
    start = day_interval(3)
    ExposureKey.objects.bulk_create(
        (
            ExposureKey(
                key_data=key,
                rolling_start_interval_number=start,
                rolling_end_interval_number=start + 144,
                region=region,
            )
            for key in keys
        ),
        batch_size=5000,
    )
    return set(keys)


def published_key_counts(storage) -> Counter[bytes]:
    """How often each key appears across every file of the index."""
    counts: Counter[bytes] = Counter()
    indexes = list(
        Batch.objects.filter(status=Batch.Status.PUBLISHED)
        .order_by("index")
        .values_list("index", flat=True)
    )
    assert indexes == list(range(1, len(indexes) + 1)), "the index has gaps or duplicates"
    for batch in Batch.objects.filter(status=Batch.Status.PUBLISHED):
        with storage.open(batch.file_name) as stored:
            _bin, export, _sigs = read_batch(stored.read())
        counts.update(key.key_data for key in export.keys)
    return counts


def assert_published_exactly_once(keys: set[bytes], storage) -> None:
    counts = published_key_counts(storage)
    assert set(counts) == keys, (
        f"{len(keys - set(counts))} keys missing, {len(set(counts) - keys)} unknown"
    )
    assert set(counts.values()) == {1}, "a key was published more than once"
    assert not Batch.objects.filter(status=Batch.Status.PENDING).exists()
    assert not ExposureKey.objects.filter(batch__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_publications_publish_each_key_exactly_once(region, settings, storage):
    settings.KEYS_MIN_PER_FILE = 0
    settings.KEYS_MAX_PER_FILE = 300
    signing_keys.rotate_signing_key(actor=None)
    keys = insert_keys(region, 2000)
    start = threading.Barrier(5)
    errors: list[BaseException] = []

    def publisher() -> None:
        try:
            start.wait()
            for _ in range(4):
                # Straight to run_publication: several runs race for the lease at once.
                run = PublicationRun.objects.create(trigger=PublicationRun.Trigger.SCHEDULE)
                publication.run_publication(run_id=run.pk, worker=threading.current_thread().name)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def uploader() -> None:
        try:
            start.wait()
            for _ in range(10):
                keys.update(insert_keys(region, 50))
                time.sleep(0.01)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=publisher, name=f"publisher-{n}") for n in range(4)]
    threads.append(threading.Thread(target=uploader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    final = PublicationRun.objects.create(trigger=PublicationRun.Trigger.COMMAND)
    assert publication.run_publication(run_id=final.pk).status == PublicationRun.Status.SUCCEEDED

    assert_published_exactly_once(keys, storage)
    statuses = Counter(PublicationRun.objects.values_list("status", flat=True))
    assert statuses[PublicationRun.Status.SUCCEEDED] >= 2
    assert set(statuses) <= {PublicationRun.Status.SUCCEEDED, PublicationRun.Status.SKIPPED}


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def _runs_table() -> str:
    """Every publication run, for a failure message."""
    return "\n".join(
        f"run {run.pk}: {run.status} step={run.step} worker={run.worker!r} "
        f"files={run.files_written}/{run.files_total} keys={run.keys_written} {run.message!r}"
        for run in PublicationRun.objects.order_by("pk")
    )


@pytest.mark.celery_worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_workers_publish_exactly_once_even_when_one_is_killed(
    region, tmp_path, batch_storage_dir, storage
):
    """Two real workers; the one writing files is killed with SIGKILL half-way through; the
    survivor, on the next request, completes the job: every key published exactly once.

    Deadlines are generous (a shared CI machine can be several times slower than a laptop):
    each wait ends as soon as its condition holds, and a failure prints the runs and both
    workers' whole logs.
    """
    lease_seconds = 3
    var_dir = tmp_path / "var"
    broker_url = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
    queue = var_dir / "broker" / "queue"
    for folder in (queue, var_dir / "broker" / "processed"):
        folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "authority.settings",
        "DATABASE_URL": _database_url(),
        "AUTHORITY_VAR_DIR": str(var_dir),
        "BATCH_STORAGE_DIR": str(batch_storage_dir),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_BROKER_URL": broker_url,
        "KEYS_MIN_PER_FILE": "0",
        # 40 files: the test sees the run between two of them and kills its worker there.
        "KEYS_MAX_PER_FILE": "2000",
        "PUBLICATION_LEASE_SECONDS": str(lease_seconds),
        "PYTHONUNBUFFERED": "1",
    }
    signing_keys.rotate_signing_key(actor=None)
    keys = insert_keys(region, 80_000)

    producer = Celery("test-producer", broker=broker_url)
    if broker_url == "filesystem://":
        producer.conf.broker_transport_options = {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(var_dir / "broker" / "processed"),
            "control_folder": str(var_dir / "broker" / "control"),
            "store_processed": False,
        }

    def enqueue() -> PublicationRun:
        run = PublicationRun.objects.create(trigger=PublicationRun.Trigger.MANUAL)
        producer.send_task("tasks.publishing.publish_keys", args=[run.pk])
        return run

    workers: dict[str, subprocess.Popen[bytes]] = {}
    logs = {}
    started = time.monotonic()
    timeline: list[str] = []

    def mark(event: str) -> None:
        timeline.append(f"{time.monotonic() - started:7.1f} s  {event}")

    def diagnosis() -> str:
        worker_logs = "\n".join(
            f"--- {name}.log\n{(tmp_path / f'{name}.log').read_text(errors='replace')}"
            for name in workers
        )
        return f"\n{chr(10).join(timeline)}\n{_runs_table()}\n{worker_logs}"

    try:
        for name in ("w1", "w2"):
            logs[name] = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed in finally
            workers[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tasks",
                    "worker",
                    "--pool=solo",
                    "-n",
                    f"{name}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=logs[name],
                stderr=subprocess.STDOUT,
            )
        first_runs = [enqueue() for _ in range(3)]
        mark(f"workers started, runs {[run.pk for run in first_runs]} requested")

        def writing_run():
            return (
                PublicationRun.objects.filter(
                    pk__in=[r.pk for r in first_runs],
                    status=PublicationRun.Status.RUNNING,
                    files_written__gte=1,
                )
                .exclude(worker="")
                .first()
            )

        victim_run = _wait_for(writing_run, timeout=300, interval=0.02)
        assert victim_run is not None, "no run was seen writing its files" + diagnosis()
        killed = victim_run.worker.split("@")[0]
        workers[killed].send_signal(signal.SIGKILL)
        workers[killed].wait(timeout=30)
        mark(f"{killed} killed while run {victim_run.pk} was writing")
        victim_run.refresh_from_db()
        assert victim_run.status == PublicationRun.Status.RUNNING, (
            "the run finished before its worker was killed" + diagnosis()
        )
        time.sleep(lease_seconds + 1)

        def all_done():
            return (
                not ExposureKey.objects.filter(batch__isnull=True).exists()
                and not Batch.objects.filter(status=Batch.Status.PENDING).exists()
            )

        # Whoever survives completes the job on the next request(s).
        deadline = time.monotonic() + 600
        while not all_done() and time.monotonic() < deadline:
            follow_up = enqueue().pk
            mark(f"run {follow_up} requested")
            _wait_for(
                lambda run_id=follow_up: PublicationRun.objects.get(pk=run_id).is_finished,
                timeout=max(1.0, deadline - time.monotonic()),
                interval=0.2,
            )
            mark(f"run {follow_up} finished")

        assert all_done(), "the survivor did not complete the publication" + diagnosis()
        assert_published_exactly_once(keys, storage)
        victim_run.refresh_from_db()
        assert victim_run.status == PublicationRun.Status.FAILED, diagnosis()
        assert "Interrupted" in victim_run.message
        assert killed in victim_run.worker
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in logs.values():
            log.close()
        connection.close()
