"""The device API (DESIGN.md 7): OTP check and key upload, real or dummy, indistinguishable."""

from __future__ import annotations

import re
import time
from typing import Any

from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authority.api.errors import SchemaError, UnauthorizedOtp
from authority.api.schema import error_response
from authority.ingestion import metrics, services
from authority.ingestion.guessing import services as guessing
from authority.ingestion.serializers import CheckOtpRequestSerializer, UploadRequestSerializer
from authority.ingestion.throttling import CheckOtpThrottle, UploadThrottle
from authority.ingestion.timing import draw_response_seconds, hold_until, release_pooled_connections
from authority.statistics import buffer
from authority.statistics.services import increment

_BEARER = re.compile(r"^Bearer ([0-9a-fA-F]{64})$")
# ASCII digits only: str.isdigit() also takes "²" (a Latin-1 byte any client can send).
_UNIX_SECONDS = re.compile(r"^[0-9]{1,12}$")

DUMMY_HEADER = OpenApiParameter(
    "Immuni-Dummy-Data",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=True,
    enum=[0, 1],
    description="1 for dummy traffic: validated like a real request, answered identically, changes nothing.",
)
CLOCK_HEADER = OpenApiParameter(
    "Immuni-Client-Clock",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=True,
    description="The phone's clock, in Unix seconds.",
)
AUTH_HEADER = OpenApiParameter(
    "Authorization",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="`Bearer <hex SHA-256 of the 10-character OTP>`",
)
SCHEMA_ERROR = error_response(
    "The request does not follow the schema; for keys, each field error is named.",
    ("invalid key", 1001, "teks.0.key_data: A key is exactly 16 bytes (24 base64 characters)."),
    ("unknown province", 1001, "province: Unknown province."),
)
UNAUTHORIZED = error_response(
    "Unknown, used, revoked or expired OTP.", ("unauthorized", 1101, "Unauthorized OTP.")
)
THROTTLED = error_response(
    "Too many requests from this client, or too many failed code lookups from its network; see Retry-After.",
    ("throttled", 1004, "Request was throttled. Expected available in 30 seconds."),
)


class DeviceApiView(APIView):
    """Shared by the device endpoints: dummy flag, timing, and the guessing budget."""

    endpoint = ""
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    # A dummy refused for its network's guessing counts as a dummy request, not as a refusal.
    refused_dummy = False

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        started = time.monotonic()
        target_seconds = draw_response_seconds()
        # What the request counts goes to the statistics buffer in one round trip.
        with buffer.one_round_trip():
            response = super().dispatch(request, *args, **kwargs)
        release_pooled_connections()  # a pooled connection does not sleep through the delay
        # Every answer, success or error, dummy or real, waits for the same drawn delay.
        hold_until(started, target_seconds)
        return response

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and not self.refused_dummy:
            increment(metrics.THROTTLED_REQUESTS, bucket=self.endpoint)
        return super().finalize_response(request, response, *args, **kwargs)

    def is_dummy(self, request: Request) -> bool:
        value = request.headers.get("Immuni-Dummy-Data", "0").strip()
        if value not in ("0", "1"):
            raise SchemaError("Immuni-Dummy-Data must be 0 or 1.")
        return value == "1"

    def otp_sha256(self, request: Request) -> str:
        match = _BEARER.match(request.headers.get("Authorization", ""))
        if match is None:
            raise UnauthorizedOtp()
        return match.group(1).lower()

    def validated(self, serializer_class: type, request: Request) -> dict[str, Any]:
        if not isinstance(request.data, dict):
            raise SchemaError("The body must be a JSON object.")
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def admit_guess(self, request: Request, *, otp_sha256: str, dummy: bool) -> guessing.Guess:
        """429 while this client's network may not look a code up, for dummy requests too:
        answering them 204 then would tell an observer which requests are cover (DESIGN 3.7)."""
        guess = guessing.admit_guess(request=request, otp_sha256_hex=otp_sha256, dummy=dummy)
        if guess.wait is not None:
            self.refused_dummy = dummy
            raise exceptions.Throttled(wait=guess.wait)
        return guess

    def count(self, *, dummy: bool) -> None:
        increment(metrics.DUMMY_REQUESTS if dummy else metrics.REAL_REQUESTS, bucket=self.endpoint)


class CheckOtpView(DeviceApiView):
    endpoint = metrics.CHECK_OTP
    throttle_classes = [CheckOtpThrottle]

    @extend_schema(
        operation_id="check_otp",
        summary="Check that an OTP is authorized (does not consume it)",
        tags=["Device API"],
        parameters=[AUTH_HEADER, DUMMY_HEADER],
        request=CheckOtpRequestSerializer,
        responses={
            204: OpenApiResponse(description="Authorized and unused."),
            400: SCHEMA_ERROR,
            401: UNAUTHORIZED,
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        dummy = self.is_dummy(request)
        self.validated(CheckOtpRequestSerializer, request)
        otp_sha256 = self.otp_sha256(request)
        self.count(dummy=dummy)
        guess = self.admit_guess(request, otp_sha256=otp_sha256, dummy=dummy)
        if dummy:
            return Response(status=status.HTTP_204_NO_CONTENT)
        valid = services.check(otp_sha256_hex=otp_sha256)
        guess.settle(valid=valid)
        if not valid:
            raise UnauthorizedOtp()
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadView(DeviceApiView):
    endpoint = metrics.UPLOAD
    throttle_classes = [UploadThrottle]

    @extend_schema(
        operation_id="upload_keys",
        summary="Upload the temporary exposure keys of a positive patient (consumes the OTP)",
        tags=["Device API"],
        parameters=[AUTH_HEADER, DUMMY_HEADER, CLOCK_HEADER],
        request=UploadRequestSerializer,
        responses={
            204: OpenApiResponse(description="Keys stored; the OTP is used up."),
            400: SCHEMA_ERROR,
            401: UNAUTHORIZED,
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        dummy = self.is_dummy(request)
        clock = request.headers.get("Immuni-Client-Clock", "")
        if not _UNIX_SECONDS.match(clock.strip()):
            raise SchemaError("Immuni-Client-Clock must be the phone's time in Unix seconds.")
        body = self.validated(UploadRequestSerializer, request)
        otp_sha256 = self.otp_sha256(request)
        self.count(dummy=dummy)
        guess = self.admit_guess(request, otp_sha256=otp_sha256, dummy=dummy)
        if dummy:
            return Response(status=status.HTTP_204_NO_CONTENT)
        uploaded = services.upload(otp_sha256_hex=otp_sha256, upload=body)
        guess.settle(valid=uploaded)
        if not uploaded:
            raise UnauthorizedOtp()
        return Response(status=status.HTTP_204_NO_CONTENT)
