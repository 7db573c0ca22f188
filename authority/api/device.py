"""The base of the phones' endpoints (DESIGN.md 7): the dummy flag, one response time for every
answer, the request counters, and bodies validated as the apps send them, real or dummy."""

from __future__ import annotations

import time
from typing import Any

from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from authority.api.errors import SchemaError
from authority.api.timing import draw_response_seconds, hold_until, release_pooled_connections
from authority.api.views import MachineApiView
from authority.ingestion import metrics
from authority.statistics import buffer
from authority.statistics.services import increment

DUMMY_HEADER = OpenApiParameter(
    "Immuni-Dummy-Data",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=True,
    enum=[0, 1],
    description="1 for dummy traffic: answered as a real request is, changes nothing.",
)


class DeviceApiView(MachineApiView):
    """Shared by the phones' endpoints (check-otp, upload, operational info).

    Every answer, success or error, dummy or real, waits for a delay drawn from one
    distribution (DESIGN.md 3.7), and what the request counts reaches the statistics buffer
    in one round trip.
    """

    endpoint = ""  # the bucket of this endpoint's request counters
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    counted = False  # whether this request is in the real or dummy request counter yet

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        started = time.monotonic()
        target_seconds = draw_response_seconds()
        with buffer.one_round_trip():
            response = super().dispatch(request, *args, **kwargs)
        release_pooled_connections()  # a pooled connection does not sleep through the delay
        hold_until(started, target_seconds)
        return response

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
            # A dummy refused at a throttle, like a real request (DESIGN.md 3.7), is still a
            # dummy: the per-client throttle refuses before post() has read the flag, so the
            # header decides here. Only real requests are throttled requests.
            if _says_dummy(request):
                if not self.counted:
                    self.count(dummy=True)
            else:
                increment(metrics.THROTTLED_REQUESTS, bucket=self.endpoint)
        return super().finalize_response(request, response, *args, **kwargs)

    def is_dummy(self, request: Request) -> bool:
        """The `Immuni-Dummy-Data` header, which every request carries: a request without it
        is a schema error, never taken for a real one."""
        value = request.headers.get("Immuni-Dummy-Data")
        if value is None or value.strip() not in ("0", "1"):
            raise SchemaError(_("The Immuni-Dummy-Data header must be 0 or 1."))
        return _says_dummy(request)

    def validated(
        self, serializer_class: type[serializers.Serializer[Any]], request: Request, *, dummy: bool
    ) -> dict[str, Any]:
        """The body, validated by `serializer_class`.

        A dummy body is validated as a real one is, but the fields it leaves out are not
        required: the iOS app's dummy upload carries its padding only, and must be answered
        as a real upload is. A field it does send must be valid.
        """
        serializer = serializer_class(data=self.json_object(request), partial=dummy)
        serializer.is_valid(raise_exception=True)
        validated: dict[str, Any] = serializer.validated_data
        return validated

    def count(self, *, dummy: bool) -> None:
        increment(metrics.DUMMY_REQUESTS if dummy else metrics.REAL_REQUESTS, bucket=self.endpoint)
        self.counted = True


def _says_dummy(request: Request) -> bool:
    return request.headers.get("Immuni-Dummy-Data", "").strip() == "1"
