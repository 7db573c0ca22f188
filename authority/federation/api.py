"""The gateway's notification of a new batch (its callback): GET /v1/federation/callback?batchTag=...&date=..., which queues a download."""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from authority.api.errors import NotFound, SchemaError
from authority.api.schema import error_response
from authority.api.views import MachineApiView
from authority.federation import configuration, runs
from authority.federation.models import FederationRun
from tasks.federation import download_keys

# The gateway's batch names ("20201125-1", and what its partners used): letters, digits, - _ .
_BATCH_TAG = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class CallbackRefused(NotFound):
    """Not a notification this server takes: answered like an unknown path (404, 1002)."""


def _enqueue(run: FederationRun) -> None:
    download_keys.delay(trigger=run.trigger, run_id=run.pk)


class GatewayCallbackView(MachineApiView):
    """The gateway calls this once for each new batch, over mutual TLS (its proxy's client
    certificate, checked by our TLS terminator, which says so in the header named by
    FEDERATION_CALLBACK_VERIFY_HEADER). Any 2xx tells the gateway the notification arrived.

    The notification only says "something new": the download that follows starts from where
    the last one stopped and verifies everything it gets, so neither the tag nor the date is
    trusted, only checked for form. A download is queued at most once a minute
    (FEDERATION_CALLBACK_MIN_INTERVAL_SECONDS), however many notifications arrive.
    """

    http_method_names = ["get", "head"]

    @extend_schema(
        tags=["European gateway"],
        summary="Notification of a new batch on the gateway (its callback)",
        parameters=[
            OpenApiParameter("batchTag", str, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("date", str, OpenApiParameter.QUERY, required=True),
        ],
        responses={
            202: OpenApiResponse(description="Noted: a download follows"),
            400: error_response(
                "Not a notification", ("Bad tag or date", 1001, "Not a batch tag and a date.")
            ),
            404: error_response(
                "No subscription", ("Not found", 1002, "No callback is configured here.")
            ),
        },
    )
    def get(self, request: Request) -> Response:
        if not settings.FEDERATION_CALLBACK_URL or not configuration.enabled():
            raise CallbackRefused(_("No callback is configured here."))
        header = settings.FEDERATION_CALLBACK_VERIFY_HEADER
        if header:
            verified = request.headers.get(header, "")
            if verified.strip().upper() != "SUCCESS":
                raise CallbackRefused(_("No callback is configured here."))
        tag = request.query_params.get("batchTag", "")
        try:
            date.fromisoformat(request.query_params.get("date", ""))
        except ValueError:
            tag = ""
        if not _BATCH_TAG.match(tag):
            raise SchemaError(_("Not a batch tag and a date."))
        runs.download_on_notification(enqueue=_enqueue)
        return Response(status=status.HTTP_202_ACCEPTED)
