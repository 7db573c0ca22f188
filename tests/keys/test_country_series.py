"""Keys received from the European gateway in our exports: beside ours in the national files when
they list Italy, else in the per-country series /v1/keys/eu/{country}; exactly once per series,
sorted, padded and signed like ours, read back by the independent GAEN reader."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from authority.federation.models import ReceivedKey
from authority.federation.retention import apply_retention as federation_retention
from authority.formats.gaen import export_pb2
from authority.keys import metrics
from authority.keys.models import Batch, ClaimedReceivedKey, PublicationRun
from authority.keys.services import publication
from authority.keys.services.retention import apply_retention
from authority.statistics.models import DailyCounter
from tests.keys.conftest import day_interval, with_a_signing_key
from tests.keys.gaen_reader import read_batch, signature_verifies

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_files")]


def publish() -> PublicationRun:
    with_a_signing_key()
    run = publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    return publication.run_publication(run_id=run.pk)


@pytest.fixture
def receive() -> Callable[..., list[ReceivedKey]]:
    """Keys as the download keeps them once verified (authority.federation.download)."""

    def make(
        count: int = 1,
        *,
        origin: str = "DE",
        visited: Sequence[str] = ("IT",),
        days_ago: int = 3,
        report_type: int = 1,
        dsos: int | None = 2,
        trl: int | None = None,
        start: int | None = None,
        key_data: bytes | None = None,
    ) -> list[ReceivedKey]:
        rolling_start = day_interval(days_ago) if start is None else start
        countries = sorted(set(visited))
        return ReceivedKey.objects.bulk_create(
            ReceivedKey(
                key_data=key_data or secrets.token_bytes(16),
                rolling_start_interval_number=rolling_start,
                rolling_period=144,
                rolling_end_interval_number=rolling_start + 144,
                report_type=report_type,
                days_since_onset_of_symptoms=dsos,
                transmission_risk_level=trl,
                origin=origin,
                visited_countries="," + ",".join(countries) + "," if countries else "",
                for_national_export="IT" in countries,
            )
            for _ in range(count)
        )

    return make


def series(client: Client, prefix: str) -> list:
    """Every key of every file of one series' index, as a phone downloads them."""
    index = client.get(f"{prefix}/index")
    if index.status_code == 404:
        return []
    keys: list[export_pb2.TemporaryExposureKey] = []
    for number in range(index.json()["oldest"], index.json()["newest"] + 1):
        _bin, export, _sigs = read_batch(client.get(f"{prefix}/{number}").getvalue())
        keys.extend(export.keys)
    return keys


def key_data(keys: list) -> set[bytes]:
    return {key.key_data for key in keys}


def counter(metric: str, bucket: str = "") -> int:
    return sum(
        DailyCounter.objects.filter(metric=metric, bucket=bucket).values_list("value", flat=True)
    )


def test_received_keys_for_italy_share_the_national_files_with_ours(
    store_keys, receive, client, settings
):
    settings.KEYS_MIN_PER_FILE = 12
    ours = store_keys(3)
    theirs = receive(4, dsos=-3, trl=6, report_type=2)
    run = publish()
    assert run.files_published == 1 and run.keys_selected == 7

    export_bin, export, signatures = read_batch(client.get("/v1/keys/1").getvalue())
    published = {key.key_data: key for key in export.keys}
    assert {key.key_data for key in ours} | {bytes(key.key_data) for key in theirs} <= set(
        published
    )
    assert len(export.keys) == 12  # padded to the minimum, like ours
    assert [key.key_data for key in export.keys] == sorted(published)
    received = published[bytes(theirs[0].key_data)]
    # The GAEN fields as the gateway gave them; nothing about the origin (GAEN has no field).
    assert (received.report_type, received.days_since_onset_of_symptoms) == (2, -3)
    assert received.transmission_risk_level == 6
    assert export.region == "222"
    [public] = client.get("/v1/keys/public-keys").json()["keys"]
    assert signature_verifies(export_bin, signatures.signatures[0].signature, public["public_key"])
    # Ours count for their region; the received ones on their own counter.
    assert counter(metrics.RECEIVED_KEYS_PUBLISHED, "") == 4
    assert sum(DailyCounter.objects.filter(metric=metrics.KEYS_PUBLISHED).values_list(
        "value", flat=True)) == 3  # fmt: skip
    assert client.get("/v1/keys/eu/DE/index").status_code == 404


def test_received_keys_alone_make_a_national_file(receive, client):
    theirs = receive(2)
    publish()
    keys = series(client, "/v1/keys")
    assert {bytes(key.key_data) for key in theirs} <= key_data(keys)
    assert len(keys) == 10  # padded with look-alikes of the received keys
    assert {key.days_since_onset_of_symptoms for key in keys} == {2}


def test_other_keys_go_to_the_series_of_their_origin_and_of_every_country_they_visited(
    receive, client, settings
):
    german = receive(2, visited=("FR",))
    french = receive(3, origin="FR", visited=())
    belgian = receive(1, origin="BE", visited=("DE", "NL"))
    publish()

    assert series(client, "/v1/keys") == []
    assert client.get("/v1/keys/index").json()["error_code"] == 1301
    expected = {
        "DE": german + belgian,
        "FR": german + french,
        "BE": belgian,
        "NL": belgian,
    }
    for country, keys in expected.items():
        index = client.get(f"/v1/keys/eu/{country}/index")
        assert index.status_code == 200
        assert index.json() == {"oldest": 1, "newest": 1}  # each series counts on its own
        assert index["Cache-Control"] == f"public, max-age={settings.KEYS_INDEX_MAX_AGE}"
        file = client.get(f"/v1/keys/eu/{country}/1")
        assert file["Content-Type"] == "application/zip"
        assert file["Cache-Control"] == "public, max-age=31536000, immutable"
        assert file["Content-Disposition"] == f'attachment; filename="batch-{country}-1.zip"'
        export_bin, export, signatures = read_batch(file.getvalue())
        assert {bytes(key.key_data) for key in keys} == {key.key_data for key in export.keys} & {
            bytes(key.key_data) for key in german + french + belgian
        }
        assert len(export.keys) == 10
        assert [key.key_data for key in export.keys] == sorted(key.key_data for key in export.keys)
        [public] = client.get("/v1/keys/public-keys").json()["keys"]
        assert signature_verifies(
            export_bin, signatures.signatures[0].signature, public["public_key"]
        )
    assert client.get("/v1/keys/eu/AT/index").json()["error_code"] == 1301
    assert counter(metrics.RECEIVED_KEYS_PUBLISHED, "FR") == 5
    assert counter(metrics.COUNTRY_BATCHES_PUBLISHED, "NL") == 1
    assert counter(metrics.BATCHES_PUBLISHED) == 0


def test_each_series_is_numbered_from_one_and_the_next_run_continues_it(
    store_keys, receive, client
):
    store_keys(1)
    receive(1, visited=("FR",))
    publish()
    store_keys(1)
    receive(1, origin="FR", visited=())
    publish()
    receive(1, origin="AT", visited=())
    publish()
    assert client.get("/v1/keys/index").json() == {"oldest": 1, "newest": 2}
    assert client.get("/v1/keys/eu/FR/index").json() == {"oldest": 1, "newest": 2}
    assert client.get("/v1/keys/eu/DE/index").json() == {"oldest": 1, "newest": 1}
    assert client.get("/v1/keys/eu/AT/index").json() == {"oldest": 1, "newest": 1}
    assert client.get("/v1/keys/eu/DE/2").json()["error_code"] == 1300
    # The national index never names another series' file.
    assert client.get("/v1/keys/3").status_code == 404


def test_a_key_is_published_once_in_each_of_its_series(receive, client):
    receive(2, visited=("IT", "FR"))  # for Italy: the national files only
    receive(2, visited=("FR", "NL"))
    publish()
    again = publish()
    assert again.files_published == 0
    national, french, dutch = (
        series(client, prefix) for prefix in ("/v1/keys", "/v1/keys/eu/FR", "/v1/keys/eu/NL")
    )
    received = {bytes(key.key_data) for key in ReceivedKey.objects.all()}
    assert len(key_data(national) & received) == 2
    assert len(key_data(french) & received) == 2 and len(key_data(dutch) & received) == 2
    assert not key_data(national) & key_data(french) & received
    assert ClaimedReceivedKey.objects.count() == 2 + 2 * 3  # IT; FR, NL and DE (origin)


def test_received_keys_wait_for_the_end_of_their_validity_and_the_embargo(
    receive, client, settings
):
    settings.KEYS_EMBARGO_MINUTES = 120
    now = int(timezone.now().timestamp()) // 600
    ended_3h_ago = receive(1, start=now - 144 - 18, visited=("FR",))
    ended_1h_ago = receive(1, start=now - 144 - 6, visited=("FR",))
    publish()
    published = key_data(series(client, "/v1/keys/eu/FR"))
    assert bytes(ended_3h_ago[0].key_data) in published
    assert bytes(ended_1h_ago[0].key_data) not in published


def test_a_series_fills_files_up_to_the_maximum(receive, client, settings):
    settings.KEYS_MAX_PER_FILE = 3
    settings.KEYS_MIN_PER_FILE = 0
    keys = receive(7, origin="FR", visited=())
    run = publish()
    assert run.files_published == 3
    assert sorted(Batch.objects.filter(country="FR").values_list("key_count", flat=True)) == [
        1, 3, 3,
    ]  # fmt: skip
    assert sorted(key_data(series(client, "/v1/keys/eu/FR"))) == sorted(
        bytes(key.key_data) for key in keys
    )


def test_received_keys_fill_the_room_left_in_our_files_then_new_ones(
    store_keys, receive, client, settings
):
    settings.KEYS_MAX_PER_FILE = 4
    settings.KEYS_MIN_PER_FILE = 0
    ours = store_keys(3)
    theirs = receive(6)
    publish()
    counts = sorted(Batch.objects.filter(country="").values_list("key_count", flat=True))
    assert sum(counts) == 9 and max(counts) == 4
    assert sorted(key_data(series(client, "/v1/keys"))) == sorted(
        [key.key_data for key in ours] + [bytes(key.key_data) for key in theirs]
    )


def test_a_received_key_that_is_also_ours_is_published_once(store_keys, receive, client, lazio):
    [ours] = store_keys(1)
    receive(1, key_data=ours.key_data, start=ours.rolling_start_interval_number)
    publish()
    national = [key.key_data for key in series(client, "/v1/keys")]
    assert national.count(ours.key_data) == 1


def test_pending_country_files_of_a_crashed_run_are_published_by_the_next(
    receive, client, monkeypatch
):
    keys = receive(3, origin="FR", visited=("NL",))
    real_commit = publication.commit_publication

    def crash(**kwargs):
        raise RuntimeError("worker lost before commit")

    monkeypatch.setattr(publication, "commit_publication", crash)
    with pytest.raises(RuntimeError):
        publish()
    assert client.get("/v1/keys/eu/FR/index").status_code == 404
    pending = set(Batch.objects.filter(status=Batch.Status.PENDING).values_list("pk", flat=True))
    assert len(pending) == 2

    monkeypatch.setattr(publication, "commit_publication", real_commit)
    publish()
    assert set(
        Batch.objects.filter(status=Batch.Status.PUBLISHED).values_list("pk", flat=True)
    ) == (pending)
    for country in ("FR", "NL"):
        published = series(client, f"/v1/keys/eu/{country}")
        assert key_data(published) >= {bytes(key.key_data) for key in keys}
    assert ClaimedReceivedKey.objects.count() == 6


def test_country_files_leave_their_index_after_the_retention_and_keys_go_with_their_claims(
    receive, client, settings
):
    keys = receive(2, origin="FR", visited=(), days_ago=10)
    publish()
    later = timezone.now() + timedelta(days=settings.BATCH_RETENTION_DAYS, hours=1)
    assert apply_retention(now=later).batches_retired == 1
    assert client.get("/v1/keys/eu/FR/index").json()["error_code"] == 1301
    # Received keys are deleted by the federation's retention, 14 days after their validity;
    # their claims go with them.
    ReceivedKey.objects.filter(pk=keys[0].pk).update(
        rolling_end_interval_number=day_interval(settings.KEYS_RETENTION_DAYS + 2)
    )
    assert federation_retention()["received_keys_deleted"] == 1
    assert ClaimedReceivedKey.objects.count() == 1


def test_the_publication_audit_names_the_country_files(receive, administrator):
    receive(1, origin="FR", visited=())
    receive(1)
    with_a_signing_key()
    run = publication.request_publication(
        requested_by=administrator, trigger=PublicationRun.Trigger.MANUAL
    )
    publication.run_publication(run_id=run.pk)
    entry = AuditEntry.objects.filter(action=Action.PUBLICATION_FINISHED).get()
    assert entry.details["batches"] == [1, 1]
    assert entry.details["country_batches"] == {"FR": [1, 1]}
    assert entry.details["received_keys"] == 2


# --- Immuni's own tests, ported case by case --------------------------------------------------
# Source (immuni-app/immuni-backend-exposure-reporting): tests/test_batch_index_eu.py. Immuni's
# batches counted from 0 and its index was cached 30 minutes; here from 1, KEYS_INDEX_MAX_AGE.

COUNTRIES = ("DK", "DE", "AT", "ES")


@pytest.mark.parametrize("country", COUNTRIES)
def test_immuni_reporting_index_no_batches_eu(client, country):
    response = client.get(f"/v1/keys/eu/{country}/index")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1301


@pytest.mark.parametrize("num_batches", [1, 3])
@pytest.mark.parametrize("country", COUNTRIES)
def test_immuni_reporting_index_eu(receive, client, settings, num_batches, country):
    for _ in range(num_batches):
        receive(1, origin=country, visited=())
        publish()
    response = client.get(f"/v1/keys/eu/{country}/index")
    assert response.status_code == 200
    assert response["Cache-Control"] == f"public, max-age={settings.KEYS_INDEX_MAX_AGE}"
    assert response.json() == {"oldest": 1, "newest": num_batches}


@pytest.mark.parametrize("country", COUNTRIES)
def test_immuni_reporting_batch_eu(receive, client, country):
    receive(1, origin=country, visited=())
    publish()
    response = client.get(f"/v1/keys/eu/{country}/1")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Type"] == "application/zip"


@pytest.mark.parametrize("country", COUNTRIES)
def test_immuni_reporting_batch_eu_not_found(client, country):
    response = client.get(f"/v1/keys/eu/{country}/1")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1300
    assert response["Cache-Control"] == "no-store"  # Immuni: none (see test_download_api.py)


@pytest.mark.parametrize("country", COUNTRIES)
def test_immuni_reporting_batch_eu_not_found_v0(client, country):
    response = client.get(f"/v0/keys/eu/{country}/1")
    assert response.status_code == 404
    assert "public" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("index", ["asd", "none", "12d", "-23", 0, -1, 23456789876543234567898765])
@pytest.mark.parametrize("country", COUNTRIES)
def test_immuni_reporting_batch_eu_index_weird_characters(client, index, country):
    response = client.get(f"/v1/keys/eu/{country}/{index}")
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


@pytest.mark.parametrize("country", ["ITA", "none", "DENMARK", "-23", "it", "It"])
def test_immuni_reporting_batch_eu_country_weird_characters(client, country):
    response = client.get(f"/v1/keys/eu/{country}/1")
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_file_merges_our_streamed_keys_with_the_received_ones(
    store_keys, receive, client, settings
):
    """Outside a transaction our keys come through a connection of their own (batch_files),
    the received ones through the default connection's server-side cursor, meanwhile."""
    settings.KEYS_MIN_PER_FILE = 0
    ours = store_keys(40)
    theirs = receive(30)
    run = publish()
    assert run.status == PublicationRun.Status.SUCCEEDED and run.keys_written == 70
    keys = [key.key_data for key in series(client, "/v1/keys")]
    assert keys == sorted([key.key_data for key in ours] + [bytes(k.key_data) for k in theirs])
