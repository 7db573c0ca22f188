"""API errors as exceptions carrying their HTTP status, numeric error code and message.

Every error body of the API is `{"error_code": int, "message": str}` (DESIGN.md 7). Views
raise an `ApiError` subclass (or let DRF raise its own exceptions);
`authority.api.handlers.api_exception_handler`, set as REST_FRAMEWORK["EXCEPTION_HANDLER"],
turns either into that body. (This module imports no DRF view: the parsers raise its errors,
and DRF's views import the parsers.)
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status


class ErrorCode(IntEnum):
    """The numeric codes clients see; the Immuni-compatible ones are fixed by DESIGN.md 7."""

    UNEXPECTED = 1000
    SCHEMA = 1001
    NOT_FOUND = 1002
    METHOD_NOT_ALLOWED = 1003
    THROTTLED = 1004
    UNAUTHENTICATED = 1100
    UNAUTHORIZED_OTP = 1101
    # Not 1102: the iOS app reads 1102 as Immuni's DgcNotFound (NetworkManager.swift,
    # .noDgcFound), a 404 of the certificate service. 1103 is used by no Immuni server or app.
    FORBIDDEN = 1103
    BATCH_NOT_FOUND = 1300
    NO_BATCHES = 1301
    OTP_ALREADY_AUTHORIZED = 1400
    OTP_QUOTA_REACHED = 1401


class ApiError(exceptions.APIException):
    """Base of the API's own errors: raise a subclass, optionally with a more precise message."""

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR
    error_code: int = ErrorCode.UNEXPECTED
    default_detail = _("An unexpected error occurred.")

    def __init__(self, message: Any = None) -> None:
        super().__init__(detail=message)

    @property
    def message(self) -> str:
        return str(self.detail)


class SchemaError(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    error_code = ErrorCode.SCHEMA
    default_detail = _("The request does not follow the schema.")


class PayloadTooLarge(ApiError):
    """The body is bigger than the endpoint takes (authority.api.parsers).

    413, not 400: the status every proxy in front of us answers to the same request, and the
    one that says "smaller" to a client; the code is the schema error's (docs/compatibility.md).
    """

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    error_code = ErrorCode.SCHEMA
    default_detail = _("The request body is too large.")

    def __init__(self, limit: int | None = None) -> None:
        if limit is None:
            super().__init__()
        else:
            super().__init__(
                _("The request body is larger than %(limit)s bytes.") % {"limit": limit}
            )


class Unauthenticated(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    error_code = ErrorCode.UNAUTHENTICATED
    default_detail = _("Missing or invalid credentials.")


class UnauthorizedOtp(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    error_code = ErrorCode.UNAUTHORIZED_OTP
    default_detail = _("Unauthorized OTP.")


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    error_code = ErrorCode.FORBIDDEN
    default_detail = _("These credentials do not allow this operation.")


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    error_code = ErrorCode.NOT_FOUND
    default_detail = _("Not found.")


class BatchNotFound(NotFound):
    error_code = ErrorCode.BATCH_NOT_FOUND
    default_detail = _("Batch not found.")


class NoBatches(NotFound):
    error_code = ErrorCode.NO_BATCHES
    default_detail = _("No batches have been published yet.")


class OtpAlreadyAuthorized(ApiError):
    status_code = status.HTTP_409_CONFLICT
    error_code = ErrorCode.OTP_ALREADY_AUTHORIZED
    default_detail = _("OTP already authorized.")


class OtpQuotaReached(ApiError):
    """The region's daily quota of codes is used up; `wait` (seconds) becomes Retry-After."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    error_code = ErrorCode.OTP_QUOTA_REACHED
    default_detail = _("The daily quota of codes has been reached.")

    def __init__(self, message: Any = None, *, wait: int | None = None) -> None:
        super().__init__(message)
        self.wait = wait


def error_body(error_code: int, message: str) -> dict[str, Any]:
    return {"error_code": int(error_code), "message": message}
