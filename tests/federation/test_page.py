"""The administrators' federation page: who may see it, what it says about the configuration,
"Sync now" against the test gateway, live progress, figures per country and day, audited runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from authority.audit.models import Action, AuditEntry
from authority.federation import metrics, runs, upload
from authority.federation.models import FederationRun, InboundBatch, InboundChunk, OutboundBatch
from authority.federation.sharing import offer_for_sharing
from authority.statistics.services import increment, local_day
from tests.federation.conftest import GatewayHandle, Pki, day_start, foreign_key
from tests.federation.pki import issue
from tests.matrix import LOGIN, Row, assert_outcome, client_as, matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(staff: dict[str, Any]) -> dict[str, Any]:
    run = FederationRun.objects.create(
        kind=FederationRun.Kind.UPLOAD, trigger=FederationRun.Trigger.SCHEDULE
    )
    return {**staff, "run": run}


# Federation is off here: "Sync now" only says so (and redirects).
MATRIX: list[Row] = [
    ("get", "/federation/", [LOGIN, 403, 403, 403, 403, 200]),
    ("post", "/federation/sync/", [LOGIN, 403, 403, 403, 403, 302]),
    ("get", "/federation/runs/{run}/progress/", [LOGIN, 403, 403, 403, 403, 200]),
    ("get", "/federation/chart/", [LOGIN, 403, 403, 403, 403, 200]),
]


@matrix(MATRIX)
def test_permission_matrix(cast, signed_in, method, path, outcome, actor):
    url = path.format(run=cast["run"].pk)
    response = getattr(client_as(actor, cast.get(actor), signed_in), method)(url)
    assert_outcome(response, outcome)


def test_the_page_is_in_the_administrators_navigation(signed_in, administrator, supervisor):
    assert 'href="/federation/"' in signed_in(administrator).get("/").content.decode()
    assert 'href="/federation/"' not in signed_in(supervisor).get("/").content.decode()


def _page(client, **query: Any) -> str:
    response = client.get("/federation/", query)
    assert response.status_code == 200
    return response.content.decode()


def test_federation_off_is_said_and_offers_no_sync(signed_in, administrator, settings):
    settings.FEDERATION_GATEWAY_URL = ""
    page = _page(signed_in(administrator))
    assert "Federation is off" in page
    assert ">Sync now</button>" not in page
    response = signed_in(administrator).post("/federation/sync/", follow=True)
    assert "Nothing to synchronise: federation is off" in response.content.decode()
    assert FederationRun.objects.filter(trigger=FederationRun.Trigger.MANUAL).count() == 0


def test_the_configuration_and_its_certificates_are_shown(
    signed_in, administrator, federation: GatewayHandle
):
    page = _page(signed_in(administrator))
    assert federation.url in page
    assert "Client certificate (mutual TLS)" in page
    assert "CN=Immuni signing" in page
    assert page.count(">Valid<") == 3
    assert ">Sync now</button>" in page
    assert "Not subscribed: downloads run on the schedule only." in page


def test_a_certificate_near_its_end_is_flagged(
    signed_in, administrator, federation: GatewayHandle, pki: Pki, settings, tmp_path
):
    soon = issue(None, common_name="Immuni signing", country="IT", usage="sign",
                 not_after=datetime.now(UTC) + timedelta(days=10))  # fmt: skip
    settings.FEDERATION_SIGNING_CERT_FILE, settings.FEDERATION_SIGNING_KEY_FILE = map(
        str, soon.write(tmp_path, "soon")
    )
    page = _page(signed_in(administrator))
    assert "Signing certificate (our batches): expires on" in page
    assert "Expires soon" in page


def test_an_unusable_configuration_says_why(
    signed_in, administrator, federation: GatewayHandle, pki: Pki, settings
):
    settings.FEDERATION_TLS_KEY_FILE = pki.key("de-signing")
    page = _page(signed_in(administrator))
    assert "The configuration cannot be used" in page
    assert "FEDERATION_TLS_KEY_FILE is not the key of FEDERATION_TLS_CERT_FILE" in page
    assert ">Sync now</button>" not in page


def test_sync_now_uploads_and_downloads_and_audits_each_run(
    signed_in, administrator, federation: GatewayHandle, django_capture_on_commit_callbacks
):
    ours = [type("Key", (), {"key_data": bytes([n]) * 16,
                             "rolling_start_interval_number": day_start(3),
                             "rolling_period": 144})() for n in range(1, 4)]  # fmt: skip
    today = datetime.now(UTC).date()
    offer_for_sharing(keys=ours, countries=["DE", "FR"], onset_date=today, uploaded_on=today)
    german = [foreign_key(origin="DE", visited=("IT",)) for _ in range(4)]
    assert federation.upload_as(german).status_code == 201
    federation.batch()

    client = signed_in(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/federation/sync/")
    assert response.status_code == 302
    assert response["Location"] == "/federation/"

    upload_run = FederationRun.objects.get(kind=FederationRun.Kind.UPLOAD)
    download_run = FederationRun.objects.get(kind=FederationRun.Kind.DOWNLOAD)
    for run in (upload_run, download_run):
        assert run.status == FederationRun.Status.SUCCEEDED, run.message
        assert (run.trigger, run.requested_by) == (FederationRun.Trigger.MANUAL, administrator)
    assert upload_run.keys_shared == 3 and download_run.keys_received == 4
    assert {k["origin"] for k in federation.state()["keys"]} == {"DE", "IT"}

    requested = AuditEntry.objects.get(action=Action.FEDERATION_SYNC_REQUESTED)
    assert requested.actor == administrator
    assert requested.details == {"runs": [upload_run.pk, download_run.pk]}
    finished = {
        entry.details["kind"]: entry
        for entry in AuditEntry.objects.filter(action=Action.FEDERATION_RUN_FINISHED)
    }
    assert finished["upload"].actor == administrator
    assert finished["upload"].details["keys_shared"] == 3
    assert finished["download"].details["keys_received"] == 4
    assert finished["download"].details["outcome"] == "succeeded"

    page = _page(client)
    assert "Synchronisation started: an upload and a download." in page
    # The figures per country: 3 shared with each of DE and FR, 4 received from DE.
    by_country = page[page.index('data-testid="by-country"') :]
    by_country = by_country[: by_country.index("</table>")]
    assert '<th scope="row">DE</th><td class="text-end">3</td><td class="text-end">4</td>' in (
        by_country
    )
    assert '<th scope="row">FR</th><td class="text-end">3</td><td class="text-end">0</td>' in (
        by_country
    )
    assert "DE: 3 shared, 4 received" in page


def test_sync_now_while_a_run_is_working_shows_that_run(
    signed_in, administrator, federation: GatewayHandle
):
    working = FederationRun.objects.create(
        kind=FederationRun.Kind.DOWNLOAD,
        trigger=FederationRun.Trigger.SCHEDULE,
        status=FederationRun.Status.RUNNING,
        heartbeat_at=timezone.now(),
    )
    response = signed_in(administrator).post("/federation/sync/", follow=True)
    page = response.content.decode()
    assert "A synchronisation is already running" in page
    assert FederationRun.objects.count() == 1
    assert f'data-progress-url="/federation/runs/{working.pk}/progress/"' in page
    assert "data-active" in page


def test_a_run_with_no_worker_is_closed_and_audited_and_sync_works_again(
    signed_in, administrator, federation: GatewayHandle, django_capture_on_commit_callbacks
):
    stuck = FederationRun.objects.create(
        kind=FederationRun.Kind.UPLOAD,
        trigger=FederationRun.Trigger.SCHEDULE,
        status=FederationRun.Status.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=31),
    )
    never = FederationRun.objects.create(
        kind=FederationRun.Kind.DOWNLOAD,
        trigger=FederationRun.Trigger.MANUAL,
        status=FederationRun.Status.QUEUED,
    )
    FederationRun.objects.filter(pk=never.pk).update(
        started_at=timezone.now() - timedelta(minutes=16)
    )
    page = _page(signed_in(administrator))
    assert "No sign of life for 30 minutes" in page
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(administrator).post("/federation/sync/")
    stuck.refresh_from_db()
    never.refresh_from_db()
    assert stuck.status == never.status == FederationRun.Status.FAILED
    assert "interrupted" in stuck.message and "never started" in never.message
    outcomes = AuditEntry.objects.filter(action=Action.FEDERATION_RUN_FINISHED).values_list(
        "details__run", "details__outcome"
    )
    assert (stuck.pk, "failed") in set(outcomes)
    assert FederationRun.objects.filter(status=FederationRun.Status.SUCCEEDED).count() == 2


def test_the_progress_of_a_run_as_the_page_polls_it(signed_in, administrator):
    run = FederationRun.objects.create(
        kind=FederationRun.Kind.DOWNLOAD,
        trigger=FederationRun.Trigger.MANUAL,
        status=FederationRun.Status.RUNNING,
        batches=2,
        keys_received=40,
        keys_refused=3,
        heartbeat_at=timezone.now(),
    )
    response = signed_in(administrator).get(f"/federation/runs/{run.pk}/progress/")
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "running" and body["finished"] is False
    assert (body["batches"], body["keys_received"], body["keys_refused"]) == (2, 40, 3)
    FederationRun.objects.filter(pk=run.pk).update(status=FederationRun.Status.SUCCEEDED)
    assert signed_in(administrator).get(f"/federation/runs/{run.pk}/progress/").json()["finished"]


def test_the_chart_gives_each_country_its_figures(signed_in, administrator):
    client = signed_in(administrator)
    empty = client.get("/federation/chart/").json()
    assert empty["empty"] is True
    yesterday = local_day() - timedelta(days=1)
    increment(metrics.KEYS_SHARED_WITH, bucket="FR", amount=7, day=yesterday)
    increment(metrics.KEYS_RECEIVED, bucket="DE", amount=12, day=yesterday)
    increment(metrics.KEYS_REFUSED, bucket="DE", amount=2)
    increment(metrics.KEYS_RECEIVED, bucket="AT", amount=5, day=local_day() - timedelta(days=20))
    chart = client.get("/federation/chart/").json()
    assert chart["empty"] is False
    traces = {trace["name"]: dict(zip(trace["x"], trace["y"], strict=True))
              for trace in chart["figure"]["data"]}  # fmt: skip
    assert traces["Shared with"] == {"DE": 0, "FR": 7}
    assert traces["Received from"] == {"DE": 12, "FR": 0}
    assert traces["Refused (did not verify)"] == {"DE": 2, "FR": 0}
    assert {trace["type"] for trace in chart["figure"]["data"]} == {"bar"}  # SVG, no WebGL
    # Thirty days reach the Austrian keys of 20 days ago; another period falls back to 14.
    assert "AT" in client.get("/federation/chart/?days=30").json()["figure"]["data"][1]["x"]
    assert "AT" not in client.get("/federation/chart/?days=99").json()["figure"]["data"][1]["x"]


def test_refused_parts_and_uploads_are_listed_with_their_reason(signed_in, administrator):
    batch = InboundBatch.objects.create(
        batch_tag="20261203-1", batch_date=local_day(), status=InboundBatch.Status.PARTLY_REFUSED
    )
    InboundChunk.objects.create(batch=batch, position=0, country="DE", key_count=3,
                                verified=False, reason="signature",
                                message="the signature is not over these keys")  # fmt: skip
    OutboundBatch.objects.create(batch_tag="IT-abc", status=OutboundBatch.Status.REFUSED,
                                 key_count=150, last_status=400, message="invalid batch",
                                 finished_at=timezone.now())  # fmt: skip
    page = _page(signed_in(administrator))
    assert "The signature does not match the keys" in page
    assert "the signature is not over these keys" in page
    assert "IT-abc" in page and "400 invalid batch" in page


def test_the_page_in_italian(signed_in, administrator, federation: GatewayHandle):
    client = signed_in(administrator)
    client.cookies["django_language"] = "it"
    page = _page(client)
    for italian_text in (
        "Federazione europea",
        ">Sincronizza ora</button>",
        "Configurazione",
        "Certificato client (TLS reciproco)",
        ">Valido<",
        "Ultimo invio e ultima ricezione",
        "Chiavi scambiate",
        "Ultimi 14 giorni",
        "Esecuzioni recenti",
    ):
        assert italian_text in page, italian_text
    for english in ("Keys exchanged", "Recent runs", "Configuration<", "Sync now"):
        assert english not in page, english


def test_a_scheduled_run_is_audited_as_the_scheduler(federation: GatewayHandle):
    run = upload.run_upload(sleep=lambda _seconds: None)
    assert run is not None and run.status == FederationRun.Status.SUCCEEDED
    entry = AuditEntry.objects.get(action=Action.FEDERATION_RUN_FINISHED)
    assert (entry.actor, entry.actor_username) == (None, "scheduler")
    assert entry.target == f"federation upload run {run.pk}"


def test_an_unexpected_error_fails_the_run_before_the_task_sees_it(
    federation: GatewayHandle, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(upload, "claim_due_keys", broken)
    with pytest.raises(RuntimeError):
        upload.run_upload(sleep=lambda _seconds: None)
    run = FederationRun.objects.get()
    assert run.status == FederationRun.Status.FAILED
    assert run.message == "RuntimeError: disk full"


def test_a_task_delivered_again_after_its_run_was_closed_works_in_a_new_run(
    federation: GatewayHandle, administrator
):
    closed = FederationRun.objects.create(
        kind=FederationRun.Kind.UPLOAD,
        trigger=FederationRun.Trigger.MANUAL,
        requested_by=administrator,
        status=FederationRun.Status.FAILED,
    )
    run = upload.run_upload(run_id=closed.pk, sleep=lambda _seconds: None)
    assert run is not None and run.pk != closed.pk
    assert (run.trigger, run.requested_by, run.status) == (
        FederationRun.Trigger.MANUAL, administrator, FederationRun.Status.SUCCEEDED,
    )  # fmt: skip


def test_a_queued_run_finding_federation_off_is_skipped(settings, administrator):
    settings.FEDERATION_GATEWAY_URL = ""
    queued = FederationRun.objects.create(
        kind=FederationRun.Kind.UPLOAD,
        trigger=FederationRun.Trigger.MANUAL,
        status=FederationRun.Status.QUEUED,
    )
    assert upload.run_upload(run_id=queued.pk) is None
    queued.refresh_from_db()
    assert (queued.status, queued.message) == (FederationRun.Status.SKIPPED, "federation is off")


def test_request_sync_refuses_a_misconfigured_federation(
    federation: GatewayHandle, settings, administrator
):
    settings.FEDERATION_TRUST_ANCHOR_FILE = "/nonexistent/anchor.pem"
    with pytest.raises(runs.FederationUnavailable, match="cannot be read"):
        runs.request_sync(requested_by=administrator, enqueue=lambda run: None)
    assert not FederationRun.objects.exists()
