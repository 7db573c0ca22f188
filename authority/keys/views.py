"""Administrators' pages: publication with live progress, batch history, signing keys."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from authority.accounts import permissions
from authority.accounts.models import User
from authority.keys import selectors
from authority.keys.models import Batch, PublicationRun
from authority.keys.services.batch_files import batch_storage
from authority.keys.services.publication import PublicationAlreadyRunning, request_publication
from authority.keys.services.verification import verify_batch
from tasks.publishing import publish_keys

HISTORY_PAGE_SIZE = 25


@permissions.allowed_if(permissions.can_publish)
def publication_view(request: HttpRequest) -> HttpResponse:
    run = selectors.latest_run()
    page = Paginator(selectors.batch_history(), HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "keys/publication.html",
        {
            "run": run,
            "running": selectors.active_publication() is not None,
            "page": page,
            "signing_keys": selectors.active_signing_keys(),
        },
    )


@require_POST
@permissions.allowed_if(permissions.can_publish)
def publish_now_view(request: HttpRequest) -> HttpResponse:
    try:
        request_publication(
            requested_by=cast(User, request.user),
            trigger=PublicationRun.Trigger.MANUAL,
            enqueue=publish_keys.delay,
        )
    except PublicationAlreadyRunning:
        messages.warning(
            request, _("A publication is already running: its progress is shown below.")
        )
    else:
        messages.success(request, _("Publication started."))
    return redirect("keys:publication")


@permissions.allowed_if(permissions.can_publish)
def run_progress_view(request: HttpRequest, pk: int) -> JsonResponse:
    run = get_object_or_404(PublicationRun, pk=pk)
    response = JsonResponse(selectors.run_progress(run))
    response["Cache-Control"] = "no-store"
    return response


@permissions.allowed_if(permissions.can_publish)  # type: ignore[arg-type]  # a streaming response
def batch_download_view(request: HttpRequest, pk: int) -> HttpResponseBase:
    batch = get_object_or_404(Batch.objects.exclude(status=Batch.Status.PENDING), pk=pk)
    storage = batch_storage()
    if not batch.file_name or not storage.exists(batch.file_name):
        raise Http404(_("The file of this batch is no longer stored."))
    return FileResponse(
        storage.open(batch.file_name, "rb"),
        as_attachment=True,
        filename=f"batch-{batch.country}-{batch.index}.zip"
        if batch.country
        else f"batch-{batch.index}.zip",
        content_type="application/zip",
    )


@require_POST
@permissions.allowed_if(permissions.can_publish)
def batch_verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch.objects.exclude(status=Batch.Status.PENDING), pk=pk)
    check = verify_batch(batch=batch)
    if check.ok:
        messages.success(
            request,
            _(
                "Batch %(index)s verified: the stored file is unchanged and its signature is valid (key versions %(versions)s)."
            )
            % {"index": batch.index, "versions": ", ".join(check.verified_versions)},
        )
    elif not check.found:
        messages.error(
            request, _("Batch %(index)s: the file is no longer stored.") % {"index": batch.index}
        )
    else:
        problems = []
        if not check.digest_matches:
            problems.append(_("the file differs from the one published (SHA-256 mismatch)"))
        if not check.signature_valid:
            problems.append(_("the signature does not verify with the published keys"))
        problems.extend(check.problems)
        messages.error(
            request,
            _("Batch %(index)s failed verification: %(problems)s.")
            % {"index": batch.index, "problems": "; ".join(problems)},
        )
    return redirect("keys:publication")


@permissions.allowed_if(permissions.can_manage_signing_keys)
def signing_keys_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "keys/signing_keys.html",
        {
            "signing_keys": selectors.active_signing_keys(),
            "retired_keys": selectors.retired_signing_keys(),
        },
    )
