"""HIS endpoints: authorize the code a patient's app shows, or issue one (DESIGN.md 7)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from authority.api.errors import ErrorCode, OtpAlreadyAuthorized, OtpQuotaReached
from authority.api.schema import error_response
from authority.api.views import MachineApiView
from authority.otps import services
from authority.otps.authentication import ApiKeyAuthentication, HasApiKey
from authority.otps.models import ApiKey
from authority.otps.serializers import (
    AuthorizeOtpSerializer,
    IssuedOtpSerializer,
    IssueOtpSerializer,
)
from authority.statistics.services import local_day

DATE_IN_THE_FUTURE = (
    "Date in the future",
    ErrorCode.SCHEMA,
    "symptoms_started_on: The date cannot be in the future.",
)
AUTHORIZE_SCHEMA_ERROR = error_response(
    "The body does not follow the schema (malformed JSON, missing field, invalid code or date).",
    ("Invalid code", ErrorCode.SCHEMA, "otp: This code is not valid: it was probably mistyped."),
    DATE_IN_THE_FUTURE,
)
ISSUE_SCHEMA_ERROR = error_response(
    "The body does not follow the schema (malformed JSON, missing or invalid date).",
    DATE_IN_THE_FUTURE,
)
UNAUTHENTICATED = error_response(
    "No API key, or an unknown or revoked one.",
    ("Revoked key", ErrorCode.UNAUTHENTICATED, "Unknown or revoked API key."),
)
QUOTA_REACHED = error_response(
    "The region's daily quota of codes is used up; Retry-After says when it starts again.",
    (
        "Quota reached",
        ErrorCode.OTP_QUOTA_REACHED,
        "Your region has reached its limit of 2000 codes for today.",
    ),
)


def _seconds_until_tomorrow() -> int:
    tomorrow = datetime.combine(
        local_day() + timedelta(days=1), time.min, timezone.get_current_timezone()
    )
    return max(1, int((tomorrow - timezone.now()).total_seconds()))


def _quota_error(refusal: services.OtpQuotaReachedError) -> OtpQuotaReached:
    return OtpQuotaReached(refusal.message, wait=_seconds_until_tomorrow())


class HisApiView(MachineApiView):
    """Base of the HIS endpoints: an API key, and what every machine endpoint shares (no
    metadata on OPTIONS, `Cache-Control: no-store`, a JSON object as the body)."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    # A code and a date: a few dozen bytes, however the JSON is laid out.
    max_body_bytes = 8 * 1024

    def api_key(self, request: Request) -> ApiKey:
        assert isinstance(request.auth, ApiKey)  # HasApiKey let the request in
        return request.auth


class AuthorizeOtpView(HisApiView):
    @extend_schema(
        operation_id="authorize_otp",
        summary="Authorize the code shown in a patient's app",
        description="The patient's app generated the code and waits until it is authorized;"
        " the app then uploads its keys with it. An authorized code works for 30 minutes"
        " (configurable).",
        tags=["HIS"],
        request=AuthorizeOtpSerializer,
        examples=[
            OpenApiExample(
                "Authorize",
                value={"otp": "KJ23IWY5UJ", "symptoms_started_on": "2026-03-01"},
                request_only=True,
            )
        ],
        responses={
            204: OpenApiResponse(description="Authorized: the app can now upload its keys."),
            400: AUTHORIZE_SCHEMA_ERROR,
            401: UNAUTHENTICATED,
            409: error_response(
                "This code was already authorized.",
                ("Already authorized", ErrorCode.OTP_ALREADY_AUTHORIZED, "OTP already authorized."),
            ),
            429: QUOTA_REACHED,
        },
    )
    def post(self, request: Request) -> Response:
        body = AuthorizeOtpSerializer(data=self.json_object(request))
        body.is_valid(raise_exception=True)
        try:
            services.authorize_otp(
                api_key=self.api_key(request),
                code=body.validated_data["otp"],
                onset_date=body.validated_data["symptoms_started_on"],
            )
        except services.OtpAlreadyAuthorizedError:
            raise OtpAlreadyAuthorized from None
        except services.OtpQuotaReachedError as refusal:
            raise _quota_error(refusal) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class IssueOtpView(HisApiView):
    @extend_schema(
        operation_id="issue_otp",
        summary="Issue a new code for a positive patient",
        description="The server generates the code and returns it in this response only: it"
        " keeps just a keyed hash. Give the code to the patient, who types it in the app."
        " It works for 24 hours (configurable).",
        tags=["HIS"],
        request=IssueOtpSerializer,
        examples=[
            OpenApiExample("Issue", value={"symptoms_started_on": "2026-03-01"}, request_only=True),
            OpenApiExample(
                "Issued",
                value={"otp": "59FU36KR46", "expires_at": "2026-03-03T10:15:00+01:00"},
                response_only=True,
                status_codes=["201"],
            ),
        ],
        responses={
            201: IssuedOtpSerializer,
            400: ISSUE_SCHEMA_ERROR,
            401: UNAUTHENTICATED,
            429: QUOTA_REACHED,
        },
    )
    def post(self, request: Request) -> Response:
        body = IssueOtpSerializer(data=self.json_object(request))
        body.is_valid(raise_exception=True)
        try:
            issued = services.issue_otp(
                api_key=self.api_key(request), onset_date=body.validated_data["symptoms_started_on"]
            )
        except services.OtpQuotaReachedError as refusal:
            raise _quota_error(refusal) from None
        output = IssuedOtpSerializer({"otp": issued.code, "expires_at": issued.expires_at})
        # Never kept by a proxy: the code is in this answer only (authority.api.views).
        return Response(output.data, status=status.HTTP_201_CREATED)
