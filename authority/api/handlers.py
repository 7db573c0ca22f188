"""Error pages for the API's paths: under /v1/ every error is the JSON error body, even the ones
Django raises before any API view runs (an unknown path, a body too large, a crash in a
middleware); everywhere else Django's own pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from authority.api.errors import ErrorCode, error_body

API_PREFIX = "/v1/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.SCHEMA, "Bad request."), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.FORBIDDEN, "Forbidden."), status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.NOT_FOUND, "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body(ErrorCode.UNEXPECTED, "An unexpected error occurred."), status=500
        )
    return defaults.server_error(request)
