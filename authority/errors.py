"""The site's error pages (400, 403, 404, 500 and a refused form) in the layout and language of
every page: what happened, what the person may do, whom to ask. Under /v1/ the device API's JSON
error bodies instead (authority.api.handlers), whatever the page would say."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware import csrf
from django.shortcuts import render
from django.template import loader
from django.utils import translation

from authority import selectors
from authority.api.handlers import django_error_response, is_api_request

logger = logging.getLogger(__name__)

# The last resort when even the minimal page cannot be drawn (a template or static file missing):
# both languages, nothing that could fail.
_BARE_500 = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>"
    "<title>Server error – Errore del server</title></head><body>"
    "<h1>Something went wrong on our side</h1>"
    "<p>Try again in a few minutes. If it happens again, tell your supervisor.</p>"
    "<h1 lang='it'>Si è verificato un errore nel sistema</h1>"
    "<p lang='it'>Riprova tra qualche minuto. Se succede di nuovo, avvisa il tuo supervisore.</p>"
    "</body></html>"
)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return django_error_response(400)
    # The request itself is suspect (a forged Host header, a broken body): nothing of it is
    # read beyond its language, as for a server error.
    return _minimal_page(request, "errors/400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return django_error_response(403)
    context = {"helpers": selectors.helpers_for(request.user)}
    return render(request, "errors/403.html", context, status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return django_error_response(404)
    context = {"helpers": selectors.helpers_for(request.user)}
    return render(request, "errors/404.html", context, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Drawn without the request's context: the database, the session or a context processor
    may be what failed (Django's advice for handler500)."""
    if is_api_request(request):
        return django_error_response(500)
    return _minimal_page(request, "errors/500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused because its anti-forgery token did not match: most often a page left open
    while its session ended, or a login or logout in another tab."""
    if is_api_request(request):
        return django_error_response(403)
    context = {
        "helpers": selectors.helpers_for(request.user),
        "no_cookie": reason == csrf.REASON_NO_CSRF_COOKIE,
        "other_site": reason.startswith(("Origin checking failed", "Referer checking failed"))
        or reason in (csrf.REASON_NO_REFERER, csrf.REASON_INSECURE_REFERER),
    }
    # Rendered with the request: the new page carries a fresh token, so sending the form again
    # from it (after going back and reloading) works.
    return render(request, "errors/csrf.html", context, status=403)


def _minimal_page(request: HttpRequest, template_name: str, *, status: int) -> HttpResponse:
    """A page drawn from a plain context: no user, no session, no database, no context processor."""
    content: str
    try:
        with translation.override(_request_language(request)):
            content = loader.render_to_string(
                template_name, {"minimal": True, "support_contact": settings.SUPPORT_CONTACT}
            )
    except Exception:
        logger.exception("The %s page could not be drawn", status)
        content = _BARE_500
    return HttpResponse(content, status=status)


def _request_language(request: HttpRequest) -> str:
    # LocaleMiddleware has chosen it, unless the failure happened before it ran.
    try:
        return translation.get_language_from_request(request)
    except Exception:
        return settings.LANGUAGE_CODE
