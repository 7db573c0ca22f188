"""The administrators' federation page: configuration and certificates, runs with live progress, "Sync now", keys exchanged per country and per day, refusals."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from authority.accounts import permissions
from authority.accounts.access import staff_member
from authority.federation import charts, runs, selectors
from authority.federation.models import FederationRun
from authority.statistics.services import local_day
from tasks.federation import download_keys, upload_keys

# The periods the figures can cover, in days; the first is the default.
PERIODS = (14, 7, 30)

CERTIFICATE_PURPOSES = {
    "tls": gettext_lazy("Client certificate (mutual TLS)"),
    "signing": gettext_lazy("Signing certificate (our batches)"),
    "trust_anchor": gettext_lazy("Gateway's trust anchor"),
}
# Why a part of a downloaded batch was refused (authority/formats/efgs/verification.py).
REFUSAL_REASONS = {
    "signature": gettext_lazy("The signature does not match the keys"),
    "trust_anchor": gettext_lazy("Certificate not vouched for by the trust anchor"),
    "certificate": gettext_lazy("Signing certificate does not match the audit"),
    "country": gettext_lazy("Certificate of another country"),
    "expired": gettext_lazy("Certificate not valid when the keys were uploaded"),
    "origin": gettext_lazy("Keys of another origin"),
    "audit": gettext_lazy("Keys and audit entries disagree"),
    "malformed": gettext_lazy("Unreadable batch or signature"),
    "no_certificate": gettext_lazy("No certificate in the signature"),
    "algorithm": gettext_lazy("Algorithm not accepted"),
}


def _period(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", PERIODS[0]))
    except ValueError:
        return PERIODS[0]
    return days if days in PERIODS else PERIODS[0]


def _figures(days: int) -> selectors.ExchangeFigures:
    until = local_day()
    return selectors.exchange_figures(since=until - timedelta(days=days - 1), until=until)


@require_GET
@permissions.allowed_if(permissions.is_administrator)
def federation_view(request: HttpRequest) -> HttpResponse:
    days = _period(request)
    figures = _figures(days)
    active = list(runs.active_runs())
    state = selectors.configuration_state()
    return render(
        request,
        "federation/overview.html",
        {
            "state": state,
            "certificates": [
                (CERTIFICATE_PURPOSES.get(info.purpose, info.purpose), info)
                for info in state.certificates
            ],
            "run_cards": [
                (
                    title,
                    selectors.last_run(kind),
                    selectors.last_successful_run(kind),
                )
                for title, kind in (
                    (FederationRun.Kind.UPLOAD.label, FederationRun.Kind.UPLOAD),
                    (FederationRun.Kind.DOWNLOAD.label, FederationRun.Kind.DOWNLOAD),
                )
            ],
            "running": bool(active),
            "active_ids": {run.pk for run in active},
            "latest_runs": selectors.latest_runs(limit=15),
            "figures": figures,
            "day_rows": [(day, figures.countries_on(day.day)) for day in reversed(figures.days)],
            "days": days,
            "periods": PERIODS,
            "refused_chunks": [
                (chunk, REFUSAL_REASONS.get(chunk.reason, chunk.reason))
                for chunk in selectors.refused_chunks(limit=20)
            ],
            "refused_uploads": selectors.refused_uploads(limit=10),
            "pending_uploads": selectors.pending_uploads(),
            "held_uploads": list(selectors.held_uploads()),
            "waiting_keys": selectors.keys_waiting_to_be_shared(),
        },
    )


def _enqueue(run: FederationRun) -> None:
    task = upload_keys if run.kind == FederationRun.Kind.UPLOAD else download_keys
    task.delay(trigger=run.trigger, requested_by_id=run.requested_by_id, run_id=run.pk)


@require_POST
@permissions.allowed_if(permissions.is_administrator)
def sync_now_view(request: HttpRequest) -> HttpResponse:
    try:
        runs.request_sync(requested_by=staff_member(request), enqueue=_enqueue)
    except runs.FederationUnavailable as error:
        messages.error(request, _("Nothing to synchronise: %(reason)s.") % {"reason": error})
    except runs.SyncAlreadyRunning:
        messages.warning(
            request, _("A synchronisation is already running: its progress is shown below.")
        )
    else:
        messages.success(request, _("Synchronisation started: an upload and a download."))
    return redirect("federation:overview")


@require_GET
@permissions.allowed_if(permissions.is_administrator)
def run_progress_view(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_object_or_404(FederationRun, pk=pk)
    response = JsonResponse(asdict(runs.progress(run)))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permissions.allowed_if(permissions.is_administrator)
def exchange_chart_view(request: HttpRequest) -> JsonResponse:
    chart: dict[str, Any] = charts.exchange_by_country(_figures(_period(request)))
    response = JsonResponse(chart, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response
