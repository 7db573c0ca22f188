"""The publication pages: who sees them, Publish now with progress, history, verify, signing keys."""

from __future__ import annotations

import pytest

from authority.keys import selectors
from authority.keys.models import Batch, ClaimedKey, ExposureKey, PublicationRun
from authority.keys.services import publication, signing_keys
from tests.keys.conftest import with_a_signing_key
from tests.matrix import LOGIN, Row, assert_outcome, client_as, matrix

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_files")]

ACTORS = ["anonymous", "operator", "supervisor", "foreign_supervisor", "administrator"]
PAGES: list[Row] = [
    ("get", "/publishing/", [LOGIN, 403, 403, 403, 200]),
    ("post", "/publishing/publish/", [LOGIN, 403, 403, 403, 302]),
    ("get", "/publishing/runs/{run}/progress/", [LOGIN, 403, 403, 403, 200]),
    ("get", "/publishing/batches/{batch}/download/", [LOGIN, 403, 403, 403, 200]),
    ("post", "/publishing/batches/{batch}/verify/", [LOGIN, 403, 403, 403, 302]),
    ("get", "/publishing/signing-keys/", [LOGIN, 403, 403, 403, 200]),
    ("get", "/admin/keys/exposurekey/", [LOGIN, 403, 403, 403, 200]),
    ("get", "/admin/keys/batch/", [LOGIN, 403, 403, 403, 200]),
    ("get", "/admin/keys/publicationrun/", [LOGIN, 403, 403, 403, 200]),
    ("get", "/admin/keys/signingkey/", [LOGIN, 403, 403, 403, 200]),
]


def publish(user=None) -> PublicationRun:
    with_a_signing_key()
    run = publication.request_publication(requested_by=user, trigger=PublicationRun.Trigger.COMMAND)
    return publication.run_publication(run_id=run.pk)


@pytest.fixture
def published(store_keys) -> Batch:
    store_keys(2)
    publish()
    return Batch.objects.get()


@matrix(PAGES, ACTORS)
def test_only_administrators_reach_publishing(
    request, signed_in, published, method, path, outcome, actor
):
    user = None if actor == "anonymous" else request.getfixturevalue(actor)
    url = path.format(run=published.run_id, batch=published.pk)
    assert_outcome(getattr(client_as(actor, user, signed_in), method)(url), outcome)


def test_the_navigation_shows_publishing_to_administrators_only(
    signed_in, administrator, supervisor
):
    assert 'href="/publishing/"' in signed_in(administrator).get("/").content.decode()
    assert 'href="/publishing/"' not in signed_in(supervisor).get("/").content.decode()


def test_publish_now_starts_the_task_after_commit_and_shows_the_result(
    store_keys, signing_key, administrator, signed_in, django_capture_on_commit_callbacks
):
    store_keys(3)
    client = signed_in(administrator)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/publishing/publish/", follow=True)
    assert "Publication started." in response.content.decode()
    assert len(callbacks) == 1  # enqueued only once the run row is committed
    callbacks[0]()
    page = client.get("/publishing/").content.decode()
    assert "Published 1 file with 3 keys." in page
    assert 'href="/publishing/batches/' in page


def test_a_second_press_says_a_publication_is_running(administrator, signed_in):
    client = signed_in(administrator)
    client.post("/publishing/publish/")  # queued, no worker in this test
    response = client.post("/publishing/publish/", follow=True)
    assert "A publication is already running" in response.content.decode()
    assert PublicationRun.objects.count() == 1


def test_the_page_polls_the_running_publication(administrator, signed_in):
    client = signed_in(administrator)
    client.post("/publishing/publish/")
    run = PublicationRun.objects.get()
    page = client.get("/publishing/").content.decode()
    assert f'data-progress-url="/publishing/runs/{run.pk}/progress/"' in page
    assert 'data-status="queued"' in page
    assert "js/publishing.js" in page
    assert "style=" not in page and "<script>" not in page


def test_progress_json_reports_counters(published, administrator, signed_in):
    progress = signed_in(administrator).get(f"/publishing/runs/{published.run_id}/progress/")
    assert progress["Cache-Control"] == "no-store"
    body = progress.json()
    assert body["status"] == "succeeded" and body["finished"] is True
    assert (
        body["keys_selected"],
        body["files_total"],
        body["files_signed"],
        body["files_written"],
        body["files_published"],
    ) == (2, 1, 1, 1, 1)
    assert body["padding_keys"] == 8 and body["keys_written"] == 10


def test_a_failed_publication_shows_its_error(store_keys, administrator, signed_in, monkeypatch):
    store_keys(1)

    def fail(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(publication, "commit_publication", fail)
    with pytest.raises(OSError):
        publish()
    page = signed_in(administrator).get("/publishing/").content.decode()
    assert "The publication failed" in page and "disk full" in page


def test_history_lists_batches_with_their_facts(published, administrator, signed_in):
    page = signed_in(administrator).get("/publishing/").content.decode()
    assert published.sha256[:12] in page
    assert f"/publishing/batches/{published.pk}/download/" in page
    assert f"/publishing/batches/{published.pk}/verify/" in page
    assert published.signing_key_versions in page


def test_download_gives_the_stored_file(published, administrator, signed_in, storage):
    response = signed_in(administrator).get(f"/publishing/batches/{published.pk}/download/")
    with storage.open(published.file_name) as stored:
        assert response.getvalue() == stored.read()
    assert 'filename="batch-1.zip"' in response["Content-Disposition"]


def test_verify_confirms_an_intact_batch(published, administrator, signed_in):
    response = signed_in(administrator).post(
        f"/publishing/batches/{published.pk}/verify/", follow=True
    )
    assert "Batch 1 verified" in response.content.decode()


def test_verify_detects_a_tampered_file(published, administrator, signed_in, batch_storage_dir):
    path = batch_storage_dir / published.file_name
    content = bytearray(path.read_bytes())
    content[60] ^= 0xFF
    path.write_bytes(bytes(content))
    response = signed_in(administrator).post(
        f"/publishing/batches/{published.pk}/verify/", follow=True
    )
    assert "failed verification" in response.content.decode()


def test_verify_reports_a_missing_file(published, administrator, signed_in, storage):
    storage.delete(published.file_name)
    response = signed_in(administrator).post(
        f"/publishing/batches/{published.pk}/verify/", follow=True
    )
    assert "no longer stored" in response.content.decode()


def test_signing_keys_page_shows_the_public_key_and_never_the_private_one(administrator, signed_in):
    key = signing_keys.rotate_signing_key(actor=administrator)
    page = signed_in(administrator).get("/publishing/signing-keys/").content.decode()
    assert key.public_key_pem.splitlines()[1] in page
    assert (
        "1.2.840.10045.4.3.2" in page and "<code>222</code>" in page and "<code>v1</code>" in page
    )
    assert "PRIVATE KEY" not in page


def test_admin_signing_keys_never_show_private_material(administrator, signed_in):
    key = signing_keys.rotate_signing_key(actor=administrator)
    client = signed_in(administrator)
    page = client.get(f"/admin/keys/signingkey/{key.pk}/change/").content.decode()
    assert key.public_key_pem.splitlines()[1] in page
    assert "encrypted_private_key" not in page and "PRIVATE" not in page
    assert client.get("/admin/keys/signingkey/add/").status_code == 403


def test_admin_rotate_button_creates_a_new_version(administrator, signed_in):
    client = signed_in(administrator)
    assert (
        "Rotate: create a new signing key version"
        in client.get("/admin/keys/signingkey/").content.decode()
    )
    client.post("/admin/keys/signingkey/rotate/")
    client.post("/admin/keys/signingkey/rotate/")
    assert [key.version for key in selectors.active_signing_keys()] == ["v2", "v1"]


def test_admin_retire_action_keeps_the_last_key(administrator, signed_in):
    client = signed_in(administrator)
    first = signing_keys.rotate_signing_key(actor=administrator)
    second = signing_keys.rotate_signing_key(actor=administrator)
    client.post(
        "/admin/keys/signingkey/",
        {"action": "retire", "_selected_action": [first.pk, second.pk]},
    )
    assert [key.version for key in selectors.active_signing_keys()] == ["v2"]


def test_admin_keys_and_batches_are_read_only(published, administrator, signed_in):
    client = signed_in(administrator)
    key_pk = published.keys.first().pk
    assert client.get("/admin/keys/exposurekey/add/").status_code == 403
    assert client.post(f"/admin/keys/exposurekey/{key_pk}/delete/").status_code == 403
    assert client.post(f"/admin/keys/batch/{published.pk}/delete/").status_code == 403
    page = client.get(f"/admin/keys/batch/{published.pk}/change/").content.decode()
    assert published.sha256 in page and 'name="sha256"' not in page


def test_admin_filters_keys_by_publication_and_shows_their_batch(
    published, store_keys, administrator, signed_in
):
    [waiting] = store_keys(1, days_ago=4)
    [being_written] = store_keys(1, days_ago=5)
    key = ExposureKey.objects.get(key_data=being_written.key_data)
    ClaimedKey.objects.create(key=key, batch=Batch.objects.create(run=published.run))
    client = signed_in(administrator)

    def listed(publication: str) -> set[bytes]:
        page = client.get(f"/admin/keys/exposurekey/?published={publication}").content.decode()
        stored = ExposureKey.objects.values_list("key_data", flat=True)
        return {bytes(data) for data in stored if f"{bytes(data).hex()[:8]}…" in page}

    published_keys = {bytes(data) for data in published.keys.values_list("key_data", flat=True)}
    assert listed("yes") == published_keys and len(published_keys) == 2
    assert listed("pending") == {being_written.key_data}
    assert listed("no") == {waiting.key_data}
    assert "batch 1" in client.get("/admin/keys/exposurekey/").content.decode()
    page = client.get(f"/admin/keys/exposurekey/{key.pk}/change/")
    assert page.status_code == 200
