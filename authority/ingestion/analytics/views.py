"""The apps' operational info (DESIGN.md 7): POST /v1/analytics/{google,apple}/operational-info.

Built on the device API's base view: the dummy header, the response delay drawn from one
distribution and the per-client throttle behave exactly as for check-otp and upload. Every
accepted request, real or dummy, counted or refused (bad attestation, second report this
month), gets the same empty 204: the answer tells a network observer or a forger nothing.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from authority.dashboard import metrics, services
from authority.dashboard.attestation import OperationalInfoReport
from authority.dashboard.serializers import (
    AppleOperationalInfoSerializer,
    GoogleOperationalInfoSerializer,
    OperationalInfoSerializer,
)
from authority.ingestion.throttling import AnalyticsThrottle
from authority.ingestion.views import DUMMY_HEADER, DeviceApiView

_RESPONSES = {
    204: OpenApiResponse(
        description="Received. Also the answer to dummy requests and to reports that do not count."
    ),
    400: OpenApiResponse(description="Schema error (error_code 1001)."),
    429: OpenApiResponse(description="Too many requests; see Retry-After."),
}


class OperationalInfoView(DeviceApiView):
    throttle_classes = [AnalyticsThrottle]
    platform = ""
    serializer_class: type[OperationalInfoSerializer] = OperationalInfoSerializer
    attestation_fields: tuple[str, ...] = ()

    def post(self, request: Request) -> Response:
        dummy = self.is_dummy(request)
        body = self.validated(self.serializer_class, request)
        self.count(dummy=dummy)
        if not dummy:
            services.record_operational_info(report=self.report(body))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def report(self, body: dict[str, Any]) -> OperationalInfoReport:
        province = body["province"]
        return OperationalInfoReport(
            platform=self.platform,
            province=province.code,
            region_id=province.region_id,
            exposure_permission=bool(body["exposure_permission"]),
            bluetooth_active=bool(body["bluetooth_active"]),
            notification_permission=bool(body["notification_permission"]),
            exposure_notification=bool(body["exposure_notification"]),
            last_risky_exposure_on=body.get("last_risky_exposure_on"),
            build=body.get("build"),
            attestation={name: body[name] for name in self.attestation_fields},
        )


class GoogleOperationalInfoView(OperationalInfoView):
    endpoint = metrics.OPERATIONAL_INFO_GOOGLE
    platform = metrics.ANDROID
    serializer_class = GoogleOperationalInfoSerializer
    attestation_fields = ("salt", "signed_attestation")

    @extend_schema(
        operation_id="operational_info_google",
        summary="Anonymous operational info of an Android app (with its Play Integrity attestation)",
        tags=["Device API"],
        parameters=[DUMMY_HEADER],
        request=GoogleOperationalInfoSerializer,
        responses=_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        return super().post(request)


class AppleOperationalInfoView(OperationalInfoView):
    endpoint = metrics.OPERATIONAL_INFO_APPLE
    platform = metrics.IOS
    serializer_class = AppleOperationalInfoSerializer
    attestation_fields = ("device_token",)

    @extend_schema(
        operation_id="operational_info_apple",
        summary="Anonymous operational info of an iOS app (with its DeviceCheck token)",
        tags=["Device API"],
        parameters=[DUMMY_HEADER],
        request=AppleOperationalInfoSerializer,
        responses=_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        return super().post(request)
