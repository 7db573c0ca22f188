"""The apps' operational info (DESIGN.md 7) under /v1/analytics/, as Immuni's analytics service
answered it.

The two report endpoints are device endpoints: the dummy header, the response delay drawn
from one distribution and the per-client throttle behave exactly as for check-otp and upload.
Every accepted report, real or dummy, counted or refused (attestation, second report this
month, token never authorized), gets the same empty 204: the answer tells a network observer
or a forger nothing. Nothing in the request waits for Google or Apple: an Android report's
attestation and an iOS app's DeviceCheck token are checked by Celery tasks, so a real report
takes the time a dummy takes. The iOS token endpoint answers 201 (authorized) or 202 (being
checked).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from authority.api.device import DUMMY_HEADER, DeviceApiView
from authority.api.errors import SchemaError
from authority.api.schema import error_response
from authority.api.views import MachineApiView
from authority.ingestion.analytics import metrics, services
from authority.ingestion.analytics.attestation import OperationalInfoReport
from authority.ingestion.analytics.serializers import (
    ANALYTICS_TOKEN,
    AppleOperationalInfoSerializer,
    AppleTokenSerializer,
    GoogleOperationalInfoSerializer,
    OperationalInfoSerializer,
)
from authority.ingestion.throttling import AnalyticsThrottle
from tasks.analytics import authorize_analytics_token, verify_android_report

_BEARER = re.compile(r"^bearer (\S+)$", re.IGNORECASE)

# The largest valid bodies as the apps encode them, rounded up: every field at its largest
# and 150,000 characters of padding (tests/ingestion/test_body_limits.py builds them).
GOOGLE_MAX_BODY_BYTES = 170 * 1024
APPLE_MAX_BODY_BYTES = 160 * 1024
APPLE_TOKEN_MAX_BODY_BYTES = 170 * 1024

SCHEMA_ERROR = error_response(
    "The request does not follow the schema (headers included).",
    ("build out of range", 1001, "build: Ensure this value is less than or equal to 20000."),
)
TOO_LARGE = error_response(
    "The body is larger than this endpoint takes.",
    ("too large", 1001, "The request body is larger than 174080 bytes."),
)
THROTTLED = error_response(
    "Too many requests from this client; see Retry-After.",
    ("throttled", 1004, "Request was throttled. Expected available in 30 seconds."),
)
_RESPONSES = {
    204: OpenApiResponse(
        description="Received. Also the answer to dummy requests and to reports that do not count."
    ),
    400: SCHEMA_ERROR,
    413: TOO_LARGE,
    429: THROTTLED,
}
ANALYTICS_TOKEN_HEADER = OpenApiParameter(
    "Authorization",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="`Bearer <analytics token>`: the 128 hex digits authorized through"
    " /v1/analytics/apple/token.",
)


class OperationalInfoView(DeviceApiView):
    throttle_classes = [AnalyticsThrottle]
    platform = ""
    serializer_class: type[OperationalInfoSerializer] = OperationalInfoSerializer

    def report(self, body: dict[str, Any]) -> OperationalInfoReport:
        province = body["province"]
        return OperationalInfoReport(
            platform=self.platform,
            province=province.code,
            region_id=province.region_id,
            exposure_permission=body["exposure_permission"],
            bluetooth_active=body["bluetooth_active"],
            notification_permission=body["notification_permission"],
            exposure_notification=body["exposure_notification"],
            last_risky_exposure_on=body["last_risky_exposure_on"],
            build=body.get("build"),
            salt=body.get("salt", ""),
            signed_attestation=body.get("signed_attestation", ""),
        )


class GoogleOperationalInfoView(OperationalInfoView):
    endpoint = metrics.OPERATIONAL_INFO_GOOGLE
    platform = metrics.ANDROID
    serializer_class = GoogleOperationalInfoSerializer
    max_body_bytes = GOOGLE_MAX_BODY_BYTES

    @extend_schema(
        operation_id="operational_info_google",
        summary="Anonymous operational info of an Android app (with its attestation)",
        tags=["Device API"],
        parameters=[DUMMY_HEADER],
        request=GoogleOperationalInfoSerializer,
        responses=_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        dummy = self.is_dummy(request)
        body = self.validated(self.serializer_class, request, dummy=dummy)
        self.count(dummy=dummy)
        if not dummy:
            ticket = services.receive_android_report(report=self.report(body))
            if ticket is not None:
                verify_android_report.delay(ticket)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppleOperationalInfoView(OperationalInfoView):
    endpoint = metrics.OPERATIONAL_INFO_APPLE
    platform = metrics.IOS
    serializer_class = AppleOperationalInfoSerializer
    max_body_bytes = APPLE_MAX_BODY_BYTES

    def analytics_token(self, request: Request) -> str:
        match = _BEARER.match(request.headers.get("Authorization", "").strip())
        if match is None or not ANALYTICS_TOKEN.match(match.group(1)):
            raise SchemaError(
                _("The Authorization header must be Bearer and the app's analytics token.")
            )
        return match.group(1)

    @extend_schema(
        operation_id="operational_info_apple",
        summary="Anonymous operational info of an iOS app (with its authorized analytics token)",
        tags=["Device API"],
        parameters=[ANALYTICS_TOKEN_HEADER, DUMMY_HEADER],
        request=AppleOperationalInfoSerializer,
        responses=_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        dummy = self.is_dummy(request)
        body = self.validated(self.serializer_class, request, dummy=dummy)
        token = self.analytics_token(request)
        self.count(dummy=dummy)
        if not dummy:
            services.record_apple_report(report=self.report(body), analytics_token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppleTokenView(MachineApiView):
    """POST /v1/analytics/apple/token: the iOS app asks for its analytics token to be
    authorized, with a DeviceCheck token. No dummy header: the app never sends dummies here."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes = [AnalyticsThrottle]
    max_body_bytes = APPLE_TOKEN_MAX_BODY_BYTES

    @extend_schema(
        operation_id="authorize_apple_analytics_token",
        summary="Authorize an iOS app's analytics token (checked with Apple's DeviceCheck)",
        tags=["Device API"],
        request=AppleTokenSerializer,
        responses={
            201: OpenApiResponse(description="The token is authorized for this month."),
            202: OpenApiResponse(description="The token is being checked; ask again later."),
            400: SCHEMA_ERROR,
            413: TOO_LARGE,
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = AppleTokenSerializer(data=self.json_object(request))
        serializer.is_valid(raise_exception=True)
        token = serializer.validated_data["analytics_token"]
        if services.apple_token_authorized(analytics_token=token):
            return Response(status=status.HTTP_201_CREATED)
        ticket = services.request_apple_token_authorization(
            analytics_token=token, device_token=serializer.validated_data["device_token"]
        )
        authorize_analytics_token.delay(ticket)
        return Response(status=status.HTTP_202_ACCEPTED)
