"""The download API phones use: /v1/keys/index, /v1/keys/{n}, index.txt, public keys."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from authority.keys import selectors
from authority.keys.models import Batch, PublicationRun
from authority.keys.services import publication, retention, signing_keys
from tests.keys.conftest import with_a_signing_key
from tests.keys.gaen_reader import read_batch, signature_verifies

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_files")]


def publish() -> None:
    with_a_signing_key()
    run = publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    publication.run_publication(run_id=run.pk)


def test_index_without_batches_is_error_1301(client):
    response = client.get("/v1/keys/index")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1301
    assert set(response.json()) == {"error_code", "message"}


def test_index_gives_the_oldest_and_newest_numbers_with_a_short_cache(store_keys, client, settings):
    for _ in range(3):
        store_keys(1)
        publish()
    response = client.get("/v1/keys/index")
    assert response.json() == {"oldest": 1, "newest": 3}
    assert response["Cache-Control"] == f"public, max-age={settings.KEYS_INDEX_MAX_AGE}"


def test_a_batch_file_is_a_zip_cached_for_good(store_keys, client):
    store_keys(2)
    publish()
    response = client.get("/v1/keys/1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    body = response.getvalue()
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    assert int(response["Content-Length"]) == len(body)


def test_an_unknown_batch_is_error_1300(client):
    response = client.get("/v1/keys/7")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1300


@pytest.mark.parametrize("number", ["0", "-1"])
def test_batch_numbers_below_one_are_error_1001(client, number):
    response = client.get(f"/v1/keys/{number}")
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


def test_a_batch_being_written_is_not_downloadable(store_keys, client, monkeypatch):
    store_keys(2)
    monkeypatch.setattr(publication, "commit_publication", lambda **kwargs: None)
    publish()
    assert Batch.objects.get().status == Batch.Status.PENDING
    assert client.get("/v1/keys/1").json()["error_code"] == 1300
    assert client.get("/v1/keys/index.txt").content == b""


def test_retired_batches_leave_the_index(store_keys, client):
    for _ in range(2):
        store_keys(1)
        publish()
    Batch.objects.filter(index=1).update(published_at=timezone.now() - timedelta(days=15))
    retention.apply_retention()
    assert client.get("/v1/keys/index").json() == {"oldest": 2, "newest": 2}
    # Served a while longer (an index cached a moment ago may name it), then gone.
    assert client.get("/v1/keys/1").status_code == 200
    with time_machine.travel(timezone.now() + selectors.retired_file_grace()):
        assert client.get("/v1/keys/1").json()["error_code"] == 1300


def test_index_txt_lists_the_current_files(store_keys, client):
    for _ in range(2):
        store_keys(1)
        publish()
    response = client.get("/v1/keys/index.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "v1/keys/1\nv1/keys/2\n"


def test_public_keys_list_every_active_key_newest_first(client, administrator):
    assert client.get("/v1/keys/public-keys").json() == {"keys": []}
    assert client.get("/v1/keys/public-key.pem").status_code == 404
    first = signing_keys.rotate_signing_key(actor=administrator)
    second = signing_keys.rotate_signing_key(actor=administrator)
    keys = client.get("/v1/keys/public-keys").json()["keys"]
    assert [(k["verification_key_id"], k["verification_key_version"]) for k in keys] == [
        ("222", "v2"),
        ("222", "v1"),
    ]
    assert keys[1]["public_key"] == first.public_key_pem
    assert keys[0]["signature_algorithm"] == "1.2.840.10045.4.3.2"
    pem = client.get("/v1/keys/public-key.pem")
    assert pem.content.decode() == second.public_key_pem
    assert "PRIVATE" not in str(keys)


def test_the_api_needs_no_login(store_keys, client):
    store_keys(1)
    publish()
    for path in (
        "/v1/keys/index",
        "/v1/keys/1",
        "/v1/keys/index.txt",
        "/v1/keys/public-keys",
        "/v1/keys/public-key.pem",
    ):
        assert client.get(path).status_code == 200, path


# --- What phones and CDNs send ----------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    ["application/zip", "application/octet-stream", "text/html,application/xhtml+xml", "*/*"],
)
def test_a_batch_file_is_served_whatever_the_accept_header(store_keys, client, accept):
    store_keys(2)
    publish()
    response = client.get("/v1/keys/1", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert read_batch(response.getvalue())[1].batch_num == 1


@pytest.mark.parametrize("accept", ["text/html", "application/zip", "image/png"])
def test_the_index_is_json_whatever_the_accept_header(store_keys, client, accept):
    store_keys(1)
    publish()
    response = client.get("/v1/keys/index", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"oldest": 1, "newest": 1}


@pytest.mark.parametrize(
    "path", ["/v1/keys/index.txt", "/v1/keys/public-keys", "/v1/keys/public-key.pem"]
)
def test_the_other_downloads_ignore_the_accept_header(client, administrator, path):
    signing_keys.rotate_signing_key(actor=administrator)
    assert client.get(path, HTTP_ACCEPT="application/octet-stream").status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "error_code"),
    [("/v1/keys/7", 404, 1300), ("/v1/keys/0", 400, 1001), ("/v1/keys/index", 404, 1301)],
)
def test_errors_are_the_json_body_whatever_the_accept_header(client, path, status, error_code):
    response = client.get(path, HTTP_ACCEPT="application/zip")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error_code"] == error_code


def test_a_format_query_parameter_changes_nothing(store_keys, client):
    store_keys(1)
    publish()
    response = client.get("/v1/keys/1?format=zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"


# --- Batch numbers of any size -----------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "2147483647",  # the largest the index column holds
        "2147483648",
        "99999999999999",
        "9223372036854775807",  # sys.maxsize, the largest Immuni read as a batch number
        "0000000000000000000007",
        "+7",  # what Python's int() reads, as Immuni did
        "1_000",
    ],
)
def test_a_number_with_no_batch_is_error_1300_however_large(store_keys, client, number):
    store_keys(1)
    publish()
    response = client.get(f"/v1/keys/{number}")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1300


@pytest.mark.parametrize(
    "number",
    [
        "9223372036854775808",  # beyond sys.maxsize: not a batch number for Immuni either
        "18446744073709551616",
        "9" * 5000,  # beyond what int() parses from text
    ],
)
def test_a_number_beyond_immunis_range_is_error_1001(client, number):
    response = client.get(f"/v1/keys/{number}")
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


@pytest.mark.parametrize("number", ["-0", "000", "-99999999999999", "-" + "9" * 5000])
def test_any_number_below_one_is_error_1001(client, number):
    response = client.get(f"/v1/keys/{number}")
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


def test_leading_zeros_name_the_same_batch(store_keys, client):
    store_keys(1)
    publish()
    response = client.get("/v1/keys/0001")
    assert response.status_code == 200
    assert read_batch(response.getvalue())[1].batch_num == 1


# --- Public keys for every file in the index ---------------------------------------------------


def public_keys(client) -> dict[tuple[str, str], str]:
    listed = client.get("/v1/keys/public-keys").json()["keys"]
    return {
        (k["verification_key_id"], k["verification_key_version"]): k["public_key"] for k in listed
    }


def test_every_file_in_the_index_verifies_with_a_listed_key_after_a_retirement(
    store_keys, client, administrator
):
    signing_keys.rotate_signing_key(actor=administrator)
    store_keys(1)
    publish()  # signed by v1 only
    signing_keys.rotate_signing_key(actor=administrator, retire_previous=True)
    store_keys(1)
    publish()  # signed by v2 only
    keys = public_keys(client)
    assert set(keys) == {("222", "v1"), ("222", "v2")}
    for number in (1, 2):
        export_bin, _export, signatures = read_batch(client.get(f"/v1/keys/{number}").getvalue())
        assert any(
            signature_verifies(
                export_bin,
                entry.signature,
                keys[
                    (
                        entry.signature_info.verification_key_id,
                        entry.signature_info.verification_key_version,
                    )
                ],
            )
            for entry in signatures.signatures
        ), number
    assert "PRIVATE" not in client.get("/v1/keys/public-keys").content.decode()


def test_a_retired_key_leaves_the_list_with_the_last_file_it_signed(
    store_keys, client, administrator
):
    signing_keys.rotate_signing_key(actor=administrator)
    store_keys(1)
    publish()
    signing_keys.rotate_signing_key(actor=administrator, retire_previous=True)
    store_keys(1)
    publish()
    Batch.objects.filter(index=1).update(published_at=timezone.now() - timedelta(days=15))
    retention.apply_retention()
    assert set(public_keys(client)) == {("222", "v2")}


def test_a_retired_key_that_signed_no_current_file_is_not_listed(client, administrator):
    first = signing_keys.rotate_signing_key(actor=administrator)
    signing_keys.rotate_signing_key(actor=administrator)
    signing_keys.retire_signing_key(actor=administrator, signing_key=first)
    assert set(public_keys(client)) == {("222", "v2")}


def test_the_pem_is_the_newest_active_key_even_when_older_ones_are_listed(
    store_keys, client, administrator
):
    signing_keys.rotate_signing_key(actor=administrator)
    store_keys(1)
    publish()
    newest = signing_keys.rotate_signing_key(actor=administrator, retire_previous=True)
    assert set(public_keys(client)) == {("222", "v1"), ("222", "v2")}
    assert client.get("/v1/keys/public-key.pem").content.decode() == newest.public_key_pem


# --- One cached copy for every language --------------------------------------------------------

DOWNLOADS = [
    "/v1/keys/index",
    "/v1/keys/1",
    "/v1/keys/index.txt",
    "/v1/keys/public-keys",
    "/v1/keys/public-key.pem",
]


def vary(response) -> set[str]:
    return {h.strip().lower() for h in response.get("Vary", "").split(",") if h.strip()}


@pytest.mark.parametrize("path", DOWNLOADS)
def test_downloads_do_not_vary_with_the_language(store_keys, client, path):
    store_keys(1)
    publish()
    english = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    italian = client.get(path, HTTP_ACCEPT_LANGUAGE="it")
    assert english.status_code == italian.status_code == 200
    assert "accept-language" not in vary(english)
    assert "Content-Language" not in english
    assert english.getvalue() == italian.getvalue()


def test_errors_still_vary_with_the_language_of_their_message(client):
    response = client.get("/v1/keys/7", HTTP_ACCEPT_LANGUAGE="it")
    assert response.status_code == 404
    assert "accept-language" in vary(response)


def test_other_pages_still_vary_with_the_language(client):
    assert "accept-language" in vary(client.get("/accounts/login/"))


# --- Immuni's own tests, ported case by case ----------------------------------------------------
# Source (immuni-app/immuni-backend-exposure-reporting): tests/test_batch_index.py. Immuni's
# batches counted from 0 and its index cached for 30 minutes; here they count from 1 and the
# index is cached KEYS_INDEX_MAX_AGE seconds (5 minutes by default).


def test_immuni_reporting_index_no_batches(client):
    response = client.get("/v1/keys/index")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1301


@pytest.mark.parametrize(
    ("num_batches", "retired", "oldest", "newest"),
    [(1, 0, 1, 1), (10, 0, 1, 10), (20, 6, 7, 20)],
    ids=["one", "ten", "twenty-six-retired"],
)
def test_immuni_reporting_index(store_keys, client, settings, num_batches, retired, oldest, newest):
    """Immuni's (1, 0, 0), (10, 0, 9) and (20, 6, 19), counted from 1: in its third case the
    six oldest of twenty batches were past retention and out of the index."""
    for _ in range(num_batches):
        store_keys(1)
        publish()
    old = timezone.now() - timedelta(days=15)
    Batch.objects.filter(index__lte=retired).update(published_at=old)
    retention.apply_retention()
    response = client.get("/v1/keys/index")
    assert response.status_code == 200
    assert response["Cache-Control"] == f"public, max-age={settings.KEYS_INDEX_MAX_AGE}"
    assert response.json() == {"oldest": oldest, "newest": newest}


def test_immuni_reporting_batch(store_keys, client):
    store_keys(1)
    publish()
    response = client.get("/v1/keys/1")
    assert response.status_code == 200
    # Immuni: public for 15 days; a published file never changes, so here for good.
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["Content-Type"] == "application/zip"


def test_immuni_reporting_batch_not_found(client):
    """Immuni set no Cache-Control on a missing batch, leaving it to the CDN's defaults; here
    it is explicit: not kept, since the batch may be published a minute later."""
    response = client.get("/v1/keys/1")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1300
    assert response["Cache-Control"] == "no-store"


def test_immuni_reporting_batch_not_found_v0(store_keys, client):
    # Batch 1 exists: under /v0 (no such API version) it is still not found, and the
    # answer is nothing a cache may keep.
    store_keys(1)
    publish()
    assert client.get("/v1/keys/1").status_code == 200
    for path in ("/v0/keys/1", "/v0/keys/index"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert not response.content.startswith(b"PK"), path
        assert "public" not in response.get("Cache-Control", ""), path


@pytest.mark.parametrize("index", ["asd", "none", "12d", "-23", 0, -1, 23456789876543234567898765])
def test_immuni_reporting_batch_weird_characters(client, index):
    response = client.get(f"/v1/keys/{index}")
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001
    assert response["Cache-Control"] == "no-store"


# --- Other countries' batches (the apps ask for each country of interest) -------------------


def test_another_countrys_index_has_no_batches(client):
    response = client.get("/v1/keys/eu/DE/index")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1301


def test_another_countrys_batch_is_not_found(client):
    response = client.get("/v1/keys/eu/DE/1")
    assert response.status_code == 404
    assert response.json()["error_code"] == 1300


@pytest.mark.parametrize(
    "path",
    ["/v1/keys/eu/de/index", "/v1/keys/eu/DEU/index", "/v1/keys/eu/DE/0", "/v1/keys/eu/DE/x"],
)
def test_a_bad_country_or_number_is_a_schema_error(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response.json()["error_code"] == 1001


@pytest.mark.parametrize("path", ["/v1/keys/index", "/v1/keys/1", "/v1/keys/eu/IT/index"])
@pytest.mark.parametrize("method", ["post", "put", "delete", "options"])
def test_downloads_take_only_get_and_head(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response.json()["error_code"] == 1003
    assert "OPTIONS" not in response["Allow"]
