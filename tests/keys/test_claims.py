"""Claims (ClaimedKey, the side table behind ExposureKey.batch): each key claimed once, files
filled by ranges of first key bytes, bytes exactly the codec's, crashes and retention, the
migration from the old batch column, and the PostgreSQL paths."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count
from django.utils import timezone

from authority.accounts.models import Region
from authority.formats.gaen.export import ExposureKey as GaenKey
from authority.formats.gaen.export import decode_export_bin, encode_export_bin, read_export_zip
from authority.keys import metrics, selectors
from authority.keys.models import (
    Batch,
    ClaimedKey,
    ExposureKey,
    PublicationLock,
    PublicationRun,
)
from authority.keys.services import (
    batch_files,
    claims,
    publication,
    retention,
    signing_keys,
    storing,
)
from authority.statistics.models import DailyCounter
from tests.keys.conftest import day_interval, uploaded_key, with_a_signing_key
from tests.keys.gaen_reader import read_batch

pytestmark = pytest.mark.usefixtures("small_files")

FIELDS = (
    "key_data",
    "rolling_start_interval_number",
    "rolling_period",
    "transmission_risk_level",
    "report_type",
    "days_since_onset_of_symptoms",
)


def publish() -> PublicationRun:
    with_a_signing_key()
    run = publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    return publication.run_publication(run_id=run.pk)


def store(region: Region, keys: list) -> None:
    storing.store_uploaded_keys(
        keys=keys, region_id=region.pk, onset_date=None, uploaded_on=timezone.localdate()
    )


def starting_with(first_byte: int) -> bytes:
    return bytes([first_byte]) + secrets.token_bytes(15)


def published_files(storage) -> list[list[bytes]]:
    """The key bytes of each published file, in index order (padding included)."""
    files = []
    for batch in Batch.objects.filter(status=Batch.Status.PUBLISHED).order_by("index"):
        with storage.open(batch.file_name) as stored:
            _bin, export, _sigs = read_batch(stored.read())
        files.append([key.key_data for key in export.keys])
    return files


def stored_keys_in_file_order() -> list[GaenKey]:
    rows = ExposureKey.objects.order_by("key_data", "rolling_start_interval_number")
    return [GaenKey(bytes(row[0]), *row[1:]) for row in rows.values_list(*FIELDS)]


# ---------------------------------------------------------------------- claiming


@pytest.mark.django_db
def test_each_key_is_claimed_once_however_many_runs_and_uploads(store_keys):
    store_keys(5)
    publish()
    store_keys(3, days_ago=5)
    publish()
    publish()

    claims = ClaimedKey.objects.values("key").annotate(claims=Count("*"))
    assert len(claims) == 8 and {claim["claims"] for claim in claims} == {1}
    assert not ExposureKey.objects.filter(batch__isnull=True).exists()
    assert sorted(Batch.objects.values_list("key_count", flat=True)) == [3, 5]


@pytest.mark.django_db
def test_files_take_consecutive_ranges_of_first_key_bytes_filled_up_to_the_maximum(
    lazio, storage, settings
):
    settings.KEYS_MAX_PER_FILE = 4
    settings.KEYS_MIN_PER_FILE = 0
    first_bytes = [0x00, 0x00, 0x10, 0x10, 0x20, 0x20, 0x30, 0x30, 0x40, 0xFF]
    store(lazio, [uploaded_key(key_data=starting_with(byte)) for byte in first_bytes])

    run = publish()

    files = published_files(storage)
    assert [sorted({key[0] for key in keys}) for keys in files] == [
        [0x00, 0x10],
        [0x20, 0x30],
        [0x40, 0xFF],
    ]
    assert run.keys_selected == 10 and run.files_published == 3
    assert all(keys == sorted(keys) for keys in files)


@pytest.mark.django_db
def test_keys_crowding_one_first_byte_are_split_the_exact_way_lowest_bytes_first(
    lazio, storage, settings
):
    settings.KEYS_MAX_PER_FILE = 2
    settings.KEYS_MIN_PER_FILE = 0
    key_data = sorted(starting_with(0x07) for _ in range(5))
    store(lazio, [uploaded_key(key_data=data) for data in key_data])

    publish()

    assert published_files(storage) == [key_data[0:2], key_data[2:4], key_data[4:5]]


@pytest.mark.django_db
def test_keys_uploaded_while_the_claim_is_made_are_claimed_and_counted(
    store_keys, storage, monkeypatch, settings
):
    settings.KEYS_MIN_PER_FILE = 0
    first = store_keys(3)
    late = []
    fill_files = claims._fill_files

    def upload_then_fill(*args, **kwargs):
        late.extend(store_keys(2, days_ago=6))  # after the count, before the INSERT
        return fill_files(*args, **kwargs)

    monkeypatch.setattr(claims, "_fill_files", upload_then_fill)
    run = publish()

    [batch] = Batch.objects.all()
    assert batch.key_count == run.keys_selected == 5
    assert batch.period_start.timestamp() == day_interval(6) * 600
    assert sorted(published_files(storage)[0]) == sorted(k.key_data for k in first + late)
    assert DailyCounter.objects.get(metric=metrics.KEYS_PUBLISHED).value == 5


@pytest.mark.django_db
def test_the_published_export_bin_is_byte_for_byte_what_the_codec_makes(lazio, storage, settings):
    settings.KEYS_MIN_PER_FILE = 0
    shared = secrets.token_bytes(16)
    store(
        lazio,
        [
            uploaded_key(days_ago=2, transmission_risk_level=0),
            uploaded_key(days_ago=3, transmission_risk_level=8, report_type=3),
            uploaded_key(days_ago=4, rolling_period=72, report_type=0),
            uploaded_key(days_ago=5, rolling_period=1),
            uploaded_key(key_data=shared, rolling_start_interval_number=day_interval(6)),
            uploaded_key(key_data=shared, rolling_start_interval_number=day_interval(7)),
        ],
    )
    storing.store_uploaded_keys(
        keys=[uploaded_key(days_ago=days) for days in (2, 9, 13)],
        region_id=lazio.pk,
        onset_date=timezone.localdate() - timedelta(days=5),
        uploaded_on=timezone.localdate(),
    )

    publish()

    [batch] = Batch.objects.all()
    with storage.open(batch.file_name) as stored:
        export_bin, _sig = read_export_zip(stored.read())
    metadata, _keys = decode_export_bin(export_bin)
    keys = stored_keys_in_file_order()
    assert export_bin == encode_export_bin(metadata, keys)
    assert metadata.start_timestamp == int(batch.period_start.timestamp())
    assert metadata.end_timestamp == int(batch.period_end.timestamp())


# ---------------------------------------------------------------------- crashes, retention


@pytest.mark.django_db
def test_a_worker_lost_between_two_files_leaves_claims_the_next_run_publishes_once(
    store_keys, storage, monkeypatch, settings, batch_files
):
    settings.KEYS_MAX_PER_FILE = 4
    settings.KEYS_MIN_PER_FILE = 0
    keys = store_keys(10)
    write_file = publication._Publication._write_file
    written: list[int] = []

    def lost_at_the_second_file(self, batch, signers):
        if written:
            raise RuntimeError("worker lost")
        written.append(batch.pk)
        write_file(self, batch, signers)

    monkeypatch.setattr(publication._Publication, "_write_file", lost_at_the_second_file)
    with pytest.raises(RuntimeError, match="worker lost"):
        publish()
    claims = set(ClaimedKey.objects.values_list("key", "batch"))
    assert len(claims) == 10 and len(batch_files()) == 1
    assert Batch.objects.filter(status=Batch.Status.PENDING).count() >= 3

    monkeypatch.setattr(publication._Publication, "_write_file", write_file)
    assert publish().status == PublicationRun.Status.SUCCEEDED

    assert set(ClaimedKey.objects.values_list("key", "batch")) == claims  # adopted as they were
    published = [key for keys in published_files(storage) for key in keys]
    assert sorted(published) == sorted(key.key_data for key in keys)
    assert not Batch.objects.filter(status=Batch.Status.PENDING).exists()
    assert sorted(batch_files()) == sorted(
        Batch.objects.values_list("file_name", flat=True)
    )  # the first attempt's file was replaced, not left behind


@pytest.mark.django_db
def test_retention_keeps_a_claimed_key_until_its_batch_is_published_then_deletes_both(
    lazio, storage
):
    expired = uploaded_key(rolling_start_interval_number=day_interval(16))
    store(lazio, [expired])
    dead = publication.request_publication(
        requested_by=None, trigger=PublicationRun.Trigger.SCHEDULE
    )
    token = publication._acquire_lease(dead, "worker-that-dies")
    publication._Publication(dead, token)._claim_keys()  # ... then the worker dies

    assert retention.apply_retention().keys_deleted == 0
    assert ClaimedKey.objects.count() == 1

    PublicationLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    publish()
    assert expired.key_data in published_files(storage)[0]

    assert retention.apply_retention().keys_deleted == 1
    assert not ExposureKey.objects.exists() and not ClaimedKey.objects.exists()


def export_header(storage, batch: Batch) -> tuple[int, int, str, int, int]:
    with storage.open(batch.file_name) as stored:
        metadata, _keys = decode_export_bin(read_export_zip(stored.read())[0])
    return (
        metadata.start_timestamp,
        metadata.end_timestamp,
        metadata.region,
        metadata.batch_num,
        metadata.batch_size,
    )


@pytest.mark.django_db
def test_each_file_covers_the_time_its_keys_arrived_so_no_two_headers_are_alike(
    lazio, store_keys, storage
):
    """GAEN: a file's start and end timestamps are the window in which its keys reached the
    server. Keys valid on the same days, published an hour apart, made two files whose
    headers were identical when the window was their validity."""
    start = timezone.now().replace(microsecond=0)
    oldest = store_keys(2, days_ago=6)
    with time_machine.travel(start, tick=False):
        publish()
    store_keys(2, days_ago=6)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        publish()

    first, second = Batch.objects.order_by("index")
    assert first.period_start.timestamp() == oldest[0].rolling_start_interval_number * 600
    assert first.period_end == start == second.period_start
    assert second.period_end == start + timedelta(hours=1)
    headers = [export_header(storage, batch) for batch in (first, second)]
    assert headers[0] != headers[1]
    assert [header[:2] for header in headers] == [
        (int(batch.period_start.timestamp()), int(batch.period_end.timestamp()))
        for batch in (first, second)
    ]


@pytest.mark.django_db
def test_a_batch_left_by_a_dead_worker_keeps_the_window_of_its_claim(lazio, store_keys, storage):
    start = timezone.now().replace(microsecond=0)
    store_keys(2, days_ago=4)
    dead = publication.request_publication(
        requested_by=None, trigger=PublicationRun.Trigger.SCHEDULE
    )
    with time_machine.travel(start, tick=False):
        token = publication._acquire_lease(dead, "worker-that-dies")
        publication._Publication(dead, token)._claim_keys()  # ... then the worker dies
    PublicationLock.objects.update(expires_at=start - timedelta(seconds=1))

    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        publish()

    [batch] = Batch.objects.all()
    assert batch.status == Batch.Status.PUBLISHED and batch.period_end == start
    assert export_header(storage, batch)[1] == int(start.timestamp())


@pytest.mark.django_db
def test_retention_deletes_old_unclaimed_keys_and_keeps_recent_claims(lazio, store_keys):
    store_keys(2)
    publish()
    store(lazio, [uploaded_key(rolling_start_interval_number=day_interval(16))])

    assert retention.apply_retention().keys_deleted == 1
    assert ClaimedKey.objects.count() == 2 == ExposureKey.objects.count()


# ---------------------------------------------------------------------- privacy


def test_a_claim_holds_nothing_but_the_key_and_its_batch():
    """DESIGN.md 3.4: nothing about the upload (no time, no order, no sequence)."""
    columns = {field.column for field in ClaimedKey._meta.concrete_fields}
    assert columns == {"key_id", "batch_id"}


# ---------------------------------------------------------------------- migration


@pytest.fixture
def region(transactional_db) -> Region:
    # Transactional tests flush the tables, data migrations included: make our own region.
    region, _ = Region.objects.get_or_create(code="99", defaults={"name": "Claims test region"})
    return region


def migrate_keys_to(name: str):
    executor = MigrationExecutor(connection)
    executor.migrate([("keys", name)])
    return executor.loader.project_state(("keys", name)).apps


def migrate_keys_to_the_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("keys"))


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_claims_out_of_the_key_rows_and_back(region):
    try:
        apps = migrate_keys_to("0001_initial")
        run = apps.get_model("keys", "PublicationRun").objects.create(trigger="command")
        batch = apps.get_model("keys", "Batch").objects.create(run=run, status="published")
        key_model = apps.get_model("keys", "ExposureKey")
        fields = {"rolling_start_interval_number": 1, "rolling_end_interval_number": 145}
        claimed = key_model.objects.create(
            key_data=b"\x01" * 16, region_id=region.pk, batch=batch, **fields
        )
        waiting = key_model.objects.create(key_data=b"\x02" * 16, region_id=region.pk, **fields)

        migrate_keys_to("0002_claimed_keys")
        assert list(ClaimedKey.objects.values_list("key", "batch")) == [(claimed.pk, batch.pk)]
        assert [key.pk for key in ExposureKey.objects.filter(batch__isnull=True)] == [waiting.pk]

        apps = migrate_keys_to("0001_initial")
        rows = apps.get_model("keys", "ExposureKey").objects.order_by("key_data")
        assert list(rows.values_list("pk", "batch")) == [(claimed.pk, batch.pk), (waiting.pk, None)]
    finally:
        migrate_keys_to_the_latest()


# ---------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def opened(monkeypatch) -> list[dict]:
    """The parameters of every new database connection opened while the test runs."""
    params_seen: list[dict] = []
    get_new_connection = connection.get_new_connection

    def recording(params):
        params_seen.append(params)
        return get_new_connection(params)

    monkeypatch.setattr(connection, "get_new_connection", recording)
    return params_seen


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_files_stream_through_a_connection_of_their_own(
    region, storage, settings, opened
):
    settings.KEYS_MIN_PER_FILE = 0
    settings.KEYS_MAX_PER_FILE = 3000
    signing_keys.rotate_signing_key(actor=None)
    store(region, [uploaded_key(days_ago=2 + n % 10) for n in range(5000)])
    run = publish()

    assert run.status == PublicationRun.Status.SUCCEEDED and run.keys_written == 5000
    assert len(opened) == run.files_published == 2
    published = [key for keys in published_files(storage) for key in keys]
    assert published == [key.key_data for key in stored_keys_in_file_order()]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_claim_never_reads_its_own_appends_in_a_nested_loop(region):
    """Planned for a claims table that statistics say is empty, a nested loop would re-read
    the rows the INSERT appends, once per key: quadratic (authority.keys.planning)."""
    signing_keys.rotate_signing_key(actor=None)
    store(region, [uploaded_key() for _ in range(200)])
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ClaimedKey._meta.db_table}")
    plans = []

    def explain_the_claim(execute, sql, params, many, context):
        if sql.startswith(f'INSERT INTO "{ClaimedKey._meta.db_table}"'):
            context["cursor"].execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in context["cursor"].fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain_the_claim):
        publish()

    assert plans and all("Nested Loop" not in plan for plan in plans), plans
    assert ClaimedKey.objects.count() == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_file_failing_half_read_leaves_no_connection_open(
    region, storage, settings, monkeypatch
):
    settings.KEYS_MIN_PER_FILE = 0
    signing_keys.rotate_signing_key(actor=None)
    store(region, [uploaded_key(days_ago=2 + n % 10) for n in range(3000)])
    opened = []
    get_new_connection = connection.get_new_connection

    def recording(params):
        opened.append(get_new_connection(params))
        return opened[-1]

    def storage_down_after_some_keys(out, metadata, sorted_rows, signers):
        for _count, _row in zip(range(10), sorted_rows, strict=False):
            pass
        raise OSError("storage unreachable")

    monkeypatch.setattr(connection, "get_new_connection", recording)
    monkeypatch.setattr(publication, "write_signed_export_zip_rows", storage_down_after_some_keys)
    with pytest.raises(OSError, match="unreachable") as failure:
        publish()

    assert len(opened) == 1 and opened[0].closed  # at once, though the traceback lives on
    assert failure.value is not None
    monkeypatch.undo()
    assert publish().status == PublicationRun.Status.SUCCEEDED
    published = [key for keys in published_files(storage) for key in keys]
    assert published == [key.key_data for key in stored_keys_in_file_order()]


@pytest.fixture
def keys_analyzed_when_empty(region):
    """Statistics that say the keys table is empty while it holds thousands of keys: keys
    stored, deleted and analyzed (pages left, no live rows), autovacuum off for the table
    so that nothing corrects them during the test. PostgreSQL then estimates one key.
    A fresh deployment's first busy hour, or a restore, looks like this to the planner."""
    table = ExposureKey._meta.db_table
    store(region, [uploaded_key() for _ in range(2000)])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(f"ANALYZE {table}")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


def _plan(cursor, sql: str, params) -> str:
    cursor.execute("EXPLAIN " + sql, params)
    return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_files_are_read_by_hash_joins_whatever_the_statistics_say(
    region, settings, storage, keys_analyzed_when_empty, opened
):
    """CI met it: with the keys analyzed when empty, one file's query was planned as a nested
    loop reading the whole claims table once per key, and ran for four minutes. Each file is
    read on a connection of its own, which must be one that plans no nested loop."""
    settings.KEYS_MIN_PER_FILE = 0
    settings.KEYS_MAX_PER_FILE = 2000
    signing_keys.rotate_signing_key(actor=None)
    store(region, [uploaded_key(days_ago=2 + n % 10) for n in range(6000)])
    run = publish()
    assert run.status == PublicationRun.Status.SUCCEEDED

    batch = Batch.objects.filter(status=Batch.Status.PUBLISHED).order_by("index").last()
    query = batch_files.BatchKeys(batch)
    with connection.cursor() as cursor:
        # The danger is real: planned with Django's own settings, it is the nested loop.
        assert "Nested Loop" in _plan(cursor, query._sql, query._params)
    assert len(opened) == run.files_published > 1  # one connection per file
    for params in list(opened):
        file_connection = connection.get_new_connection(params)
        try:
            with file_connection.cursor() as cursor:
                plan = _plan(cursor, query._sql, query._params)
        finally:
            file_connection.close()
        assert "Nested Loop" not in plan, plan
    published = [key for keys in published_files(storage) for key in keys]
    assert published == [key.key_data for key in stored_keys_in_file_order()]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_nothing_that_joins_the_claims_plans_a_nested_loop(
    region, settings, keys_analyzed_when_empty, administrator, signed_in
):
    """Every query on the default connection that reads the claims table (the claim, a
    batch's contents, retention, the unpublished count of the metrics, the key admin)."""
    settings.KEYS_MIN_PER_FILE = 0
    settings.KEYS_MAX_PER_FILE = 2000
    signing_keys.rotate_signing_key(actor=None)
    store(region, [uploaded_key(days_ago=2 + n % 10) for n in range(6000)])
    claims_table = f'"{ClaimedKey._meta.db_table}"'
    plans = {}

    def explain_claim_readers(execute, sql, params, many, context):
        if claims_table in sql and sql.lstrip().startswith(("SELECT", "DELETE", "INSERT")):
            plans[sql] = _plan(context["cursor"], sql, params)
        return execute(sql, params, many, context)

    admin = signed_in(administrator)
    with connection.execute_wrapper(explain_claim_readers):
        assert publish().status == PublicationRun.Status.SUCCEEDED
        store(region, [uploaded_key(days_ago=2) for _ in range(500)])
        assert selectors.unpublished_key_count() == 500
        for published in ("", "?published=no", "?published=yes"):
            assert admin.get(f"/admin/keys/exposurekey/{published}").status_code == 200
        retention.apply_retention(now=timezone.now() + timedelta(days=60))
    assert ExposureKey.objects.count() == 0

    assert len(plans) >= 6, list(plans)
    nested = {sql: plan for sql, plan in plans.items() if "Nested Loop" in plan}
    assert not nested, nested
