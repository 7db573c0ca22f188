"""How errors become answers under /v1/: the one DRF exception handler of the API views, and
the bodies of what Django raises before any API view runs (an unknown path, a body too large,
a crash in a middleware, a refused form). Both give the JSON error body; the site's error
handlers (authority/errors.py) ask `is_api_request` and give staff pages elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils.cache import patch_cache_control
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from authority.api.errors import ApiError, ErrorCode, PayloadTooLarge, SchemaError, error_body
from authority.api.parsers import body_limit

logger = logging.getLogger(__name__)

API_PREFIX = "/v1/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


# Django's own errors under /v1/, by status: the code and message the clients get.
_DJANGO_ERRORS: dict[int, tuple[ErrorCode, str]] = {
    400: (ErrorCode.SCHEMA, "Bad request."),
    403: (ErrorCode.FORBIDDEN, "Forbidden."),
    404: (ErrorCode.NOT_FOUND, "Not found."),
    500: (ErrorCode.UNEXPECTED, "An unexpected error occurred."),
}


def django_error_response(status: int) -> JsonResponse:
    """The JSON error body of a 400, 403, 404 or 500 that Django raised outside an API view."""
    error_code, message = _DJANGO_ERRORS[status]
    response = JsonResponse(error_body(error_code, message), status=status)
    # Like every other answer of the machine endpoints (authority.api.views).
    patch_cache_control(response, no_store=True)
    return response


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


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Render any exception raised in an API view as `{"error_code", "message"}`."""
    if isinstance(exc, RequestDataTooBig):
        # Django's own size check (DATA_UPLOAD_MAX_MEMORY_SIZE), when something read
        # request.body before the parser: say the endpoint's own limit, the one that counts.
        exc = PayloadTooLarge(body_limit(context.get("view")))
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
    if isinstance(exc, exceptions.UnsupportedMediaType):
        # A body that is not JSON is a schema error like any other (DESIGN.md 7), not a 415.
        response.status_code = status.HTTP_400_BAD_REQUEST
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
