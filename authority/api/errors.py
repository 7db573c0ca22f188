"""API errors as exceptions carrying their HTTP status, numeric error code and message.

Every error body of the API is `{"error_code": int, "message": str}` (DESIGN.md 7). Views
raise an `ApiError` subclass (or let DRF raise its own exceptions); `api_exception_handler`,
set as REST_FRAMEWORK["EXCEPTION_HANDLER"], turns either into that body.
"""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


class ErrorCode(IntEnum):
    """The numeric codes clients see; the Immuni-compatible ones are fixed by DESIGN.md 7."""

    UNEXPECTED = 1000
    SCHEMA = 1001
    NOT_FOUND = 1002
    METHOD_NOT_ALLOWED = 1003
    THROTTLED = 1004
    UNAUTHENTICATED = 1100
    UNAUTHORIZED_OTP = 1101
    FORBIDDEN = 1102
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
    """The body is bigger than DATA_UPLOAD_MAX_MEMORY_SIZE (authority.api.parsers)."""

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


# DRF's own exceptions, by the code they get; the most specific class comes first.
_DRF_ERROR_CODES: list[tuple[type[exceptions.APIException], ErrorCode]] = [
    (exceptions.ValidationError, ErrorCode.SCHEMA),
    (exceptions.ParseError, ErrorCode.SCHEMA),
    (exceptions.UnsupportedMediaType, ErrorCode.SCHEMA),
    (exceptions.NotAuthenticated, ErrorCode.UNAUTHENTICATED),
    (exceptions.AuthenticationFailed, ErrorCode.UNAUTHENTICATED),
    (exceptions.PermissionDenied, ErrorCode.FORBIDDEN),
    (exceptions.NotFound, ErrorCode.NOT_FOUND),
    (exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, ErrorCode.SCHEMA),
    (exceptions.Throttled, ErrorCode.THROTTLED),
]


def error_body(error_code: int, message: str) -> dict[str, Any]:
    return {"error_code": int(error_code), "message": message}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Render any exception raised in an API view as `{"error_code", "message"}`."""
    if isinstance(exc, RequestDataTooBig):
        # Django's own size check, when something read request.body before the parser.
        exc = PayloadTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    # DRF's handler maps Django's Http404/PermissionDenied and adds WWW-Authenticate/Retry-After.
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        # The traceback only: request bodies may hold codes or keys and are never logged.
        logger.exception("Unexpected error in API view %s", type(view).__name__ if view else "?")
        set_rollback()
        return Response(
            error_body(ErrorCode.UNEXPECTED, str(ApiError.default_detail)),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response.data = error_body(_error_code(exc, response.status_code), _message(exc))
    return response


def _error_code(exc: Exception, status_code: int) -> int:
    if isinstance(exc, ApiError):
        return exc.error_code
    for exception_class, code in _DRF_ERROR_CODES:
        if isinstance(exc, exception_class):
            # Without a WWW-Authenticate scheme DRF answers 403 to failed authentication.
            if code == ErrorCode.UNAUTHENTICATED and status_code == status.HTTP_403_FORBIDDEN:
                return ErrorCode.FORBIDDEN
            return code
    if status_code == status.HTTP_404_NOT_FOUND:
        return ErrorCode.NOT_FOUND
    if status_code == status.HTTP_403_FORBIDDEN:
        return ErrorCode.FORBIDDEN
    return ErrorCode.UNEXPECTED if status_code >= 500 else ErrorCode.SCHEMA


def _message(exc: Exception) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "; ".join(_flatten(exc.detail)) or str(SchemaError.default_detail)
    detail = getattr(exc, "detail", None)
    if isinstance(detail, list | dict):
        return "; ".join(_flatten(detail))
    if detail is not None:
        return str(detail)
    return str(exc) or str(ApiError.default_detail)


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """`{"teks": [{"key_data": ["Bad."]}]}` -> `["teks.0.key_data: Bad."]`."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            lines.extend(_flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name))
        return lines
    if isinstance(detail, list):
        if all(not isinstance(item, list | dict) for item in detail):
            return [f"{prefix}: {item}" if prefix else str(item) for item in detail]
        lines = []
        for index, item in enumerate(detail):
            if item:
                lines.extend(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return lines
    return [f"{prefix}: {detail}" if prefix else str(detail)]
