"""Keys through the test gateway both ways, over mutual TLS: a patient's upload reaches the
gateway for the country they visited; other countries' keys reach our phones in the national
files or in their countries' series, read back by the independent GAEN reader; and keys we
received never go back to the gateway."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from authority.federation import download, upload
from authority.federation.models import FederationRun, OutboundKey
from authority.keys.models import PublicationRun
from authority.keys.services import publication
from tests.federation.conftest import GatewayHandle, foreign_key
from tests.ingestion.conftest import app_client, authorized_otp, make_teks, upload_body
from tests.keys.conftest import batch_storage_dir, with_a_signing_key
from tests.keys.gaen_reader import read_batch, signature_verifies

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("batch_storage_dir")]
__all__ = ["app_client", "authorized_otp", "batch_storage_dir"]  # fixtures used by name


def _no_sleep(_seconds: float) -> None:
    return None


def _publish() -> PublicationRun:
    with_a_signing_key()
    run = publication.request_publication(requested_by=None, trigger=PublicationRun.Trigger.COMMAND)
    return publication.run_publication(run_id=run.pk)


def _series(client: Client, prefix: str) -> dict[bytes, Any]:
    """Every key of a series as a phone gets it, each file's signature checked first."""
    public_key = client.get("/v1/keys/public-keys").json()["keys"][0]["public_key"]
    index = client.get(f"{prefix}/index")
    assert index.status_code == 200, prefix
    keys = {}
    for number in range(index.json()["oldest"], index.json()["newest"] + 1):
        export_bin, export, signatures = read_batch(client.get(f"{prefix}/{number}").getvalue())
        assert signature_verifies(export_bin, signatures.signatures[0].signature, public_key)
        keys.update({key.key_data: key for key in export.keys})
    return keys


def test_keys_travel_both_ways_and_received_keys_never_go_back(
    federation: GatewayHandle, app_client, authorized_otp, client: Client, settings
) -> None:
    settings.KEYS_MIN_PER_FILE = 10

    # A patient of ours who visited Germany uploads four keys; today's is still valid.
    teks = make_teks(4)
    body = upload_body(teks, countries_of_interest=["DE"])
    assert app_client.upload(authorized_otp, body).status_code == 204
    shared = upload.run_upload(sleep=_no_sleep)
    assert shared is not None and shared.status == FederationRun.Status.SUCCEEDED, shared.message
    ours = {base64.b64decode(str(tek["key_data"])) for tek in teks[1:]}
    on_gateway = [key for key in federation.state()["keys"] if key["origin"] == "IT"]
    assert {base64.b64decode(key["key_data"]) for key in on_gateway} == ours
    assert {tuple(key["visited_countries"]) for key in on_gateway} == {("DE",)}

    # Germany shares keys with Italy and with France; France with Germany.
    for_italy = [foreign_key(origin="DE", visited=("IT",), dsos_value=3, trl=5) for _ in range(2)]
    for_france = [foreign_key(origin="DE", visited=("FR",)) for _ in range(2)]
    french = [foreign_key(origin="FR", visited=("DE",), report_type=2) for _ in range(3)]
    assert federation.upload_as(for_italy + for_france).status_code == 201
    assert federation.upload_as(french, client="fr-tls", signer="fr-signing").status_code == 201
    federation.batch()
    received = download.run_download(sleep=_no_sleep)
    assert received is not None and received.keys_received == 7, received.message

    _publish()
    national = _series(client, "/v1/keys")
    assert ours <= set(national)
    assert {key.key_data for key in for_italy} <= set(national)
    assert not {key.key_data for key in for_france + french} & set(national)
    italian_visitor = national[for_italy[0].key_data]
    assert (italian_visitor.days_since_onset_of_symptoms, italian_visitor.report_type) == (3, 1)
    assert italian_visitor.transmission_risk_level == 5

    germany, france = _series(client, "/v1/keys/eu/DE"), _series(client, "/v1/keys/eu/FR")
    real = {key.key_data for key in for_italy + for_france + french} | ours
    assert set(germany) & real == {key.key_data for key in for_france + french}
    assert set(france) & real == {key.key_data for key in for_france + french}
    assert france[french[0].key_data].report_type == 2  # clinical diagnosis, as received
    assert client.get("/v1/keys/eu/IT/index").json()["error_code"] == 1301

    # Received keys are never offered back: the next upload has nothing new to send.
    again = upload.run_upload(sleep=_no_sleep)
    assert again is not None and again.keys_shared == 0
    assert OutboundKey.objects.count() == 4  # our four keys (today's still waiting)
    on_gateway = [key for key in federation.state()["keys"] if key["origin"] == "IT"]
    assert {base64.b64decode(key["key_data"]) for key in on_gateway} == ours
