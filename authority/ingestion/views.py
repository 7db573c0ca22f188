"""The device API's code endpoints (DESIGN.md 7): OTP check and key upload, real or dummy."""

from __future__ import annotations

import random
import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from authority.api.device import DUMMY_HEADER, DeviceApiView
from authority.api.errors import SchemaError, UnauthorizedOtp
from authority.api.schema import error_response
from authority.ingestion import metrics, services
from authority.ingestion.guessing import services as guessing
from authority.ingestion.serializers import CheckOtpRequestSerializer, UploadRequestSerializer
from authority.ingestion.throttling import CheckOtpThrottle, UploadThrottle

# What Immuni took for the SHA-256 of a code: 64 letters or digits, as sent. The apps send
# lowercase hex; anything else of that form (uppercase hex included) matches no code and is
# answered 401 like any unknown code, as Immuni answered it. Anything else is a schema error.
# The scheme is case-insensitive, as HTTP's authentication schemes are.
_BEARER = re.compile(r"^(?i:bearer) ([0-9A-Za-z]{64})$")
# ASCII digits only: str.isdigit() also takes "²" (a Latin-1 byte any client can send).
_UNIX_SECONDS = re.compile(r"^[0-9]{1,12}$")

_random = random.SystemRandom()

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
    "The request does not follow the schema (headers included); for keys, each field error"
    " is named.",
    ("invalid key", 1001, "teks.0.key_data: A key is exactly 16 bytes (24 base64 characters)."),
    ("unknown province", 1001, "province: Unknown province."),
    ("no dummy header", 1001, "The Immuni-Dummy-Data header must be 0 or 1."),
)
TOO_LARGE = error_response(
    "The body is larger than this endpoint takes.",
    ("too large", 1001, "The request body is larger than 344064 bytes."),
)
UNAUTHORIZED = error_response(
    "Unknown, used, revoked or expired OTP.", ("unauthorized", 1101, "Unauthorized OTP.")
)
THROTTLED = error_response(
    "Too many requests from this client, or too many failed code lookups from its network; see Retry-After.",
    ("throttled", 1004, "Request was throttled. Expected available in 30 seconds."),
)

# The largest valid bodies, as the apps encode them (compact JSON), rounded up: 150,000
# characters of padding in each; for an upload also 30 keys, 84 summaries holding 600
# exposures, every figure at its largest (tests/ingestion/test_body_limits.py builds them).
CHECK_OTP_MAX_BODY_BYTES = 160 * 1024
UPLOAD_MAX_BODY_BYTES = 336 * 1024


class OtpDeviceApiView(DeviceApiView):
    """The endpoints a code authorizes: the bearer, and the guessing budget of the network."""

    def otp_sha256(self, request: Request) -> str:
        match = _BEARER.match(request.headers.get("Authorization", "").strip())
        if match is None:
            raise SchemaError(
                _("The Authorization header must be Bearer and the SHA-256 of the code.")
            )
        return match.group(1)

    def admit_guess(self, request: Request, *, otp_sha256: str, dummy: bool) -> guessing.Guess:
        """429 while this client's network may not look a code up, for dummy requests too:
        answering them 204 then would tell an observer which requests are cover (DESIGN 3.7)."""
        guess = guessing.admit_guess(request=request, otp_sha256_hex=otp_sha256, dummy=dummy)
        if guess.wait is not None:
            raise exceptions.Throttled(wait=guess.wait)
        return guess


class CheckOtpView(OtpDeviceApiView):
    endpoint = metrics.CHECK_OTP
    throttle_classes = [CheckOtpThrottle]
    max_body_bytes = CHECK_OTP_MAX_BODY_BYTES

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
            413: TOO_LARGE,
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        dummy = self.is_dummy(request)
        self.validated(CheckOtpRequestSerializer, request, dummy=dummy)
        otp_sha256 = self.otp_sha256(request)
        self.count(dummy=dummy)
        guess = self.admit_guess(request, otp_sha256=otp_sha256, dummy=dummy)
        if dummy:
            if _dummy_answered_unauthorized():
                raise UnauthorizedOtp()
            return Response(status=status.HTTP_204_NO_CONTENT)
        valid = services.check(otp_sha256_hex=otp_sha256)
        guess.settle(valid=valid)
        if not valid:
            raise UnauthorizedOtp()
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadView(OtpDeviceApiView):
    endpoint = metrics.UPLOAD
    throttle_classes = [UploadThrottle]
    max_body_bytes = UPLOAD_MAX_BODY_BYTES

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
            413: TOO_LARGE,
            429: THROTTLED,
        },
    )
    def post(self, request: Request) -> Response:
        dummy = self.is_dummy(request)
        clock = request.headers.get("Immuni-Client-Clock", "")
        if not _UNIX_SECONDS.match(clock.strip()):
            raise SchemaError(_("Immuni-Client-Clock must be the phone's time in Unix seconds."))
        body = self.validated(UploadRequestSerializer, request, dummy=dummy)
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


def _dummy_answered_unauthorized() -> bool:
    """Whether this dummy check gets the 401 of a mistyped code rather than a 204: were
    dummies never refused, every 401 a network observer saw would be a real person entering a
    code (DESIGN.md 3.7). Immuni answered the same share of its dummy checks 401."""
    return _random.random() * 100 < settings.DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT
