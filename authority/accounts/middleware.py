"""Sends anyone who has not passed both factors to the right step of the login."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import user_has_device
from rest_framework.views import APIView

from authority.accounts.access import PASSWORD_ONLY, PUBLIC


def _access_level(view_func: Callable[..., Any]) -> str | None:
    level = getattr(view_func, "access_level", None)
    if level is None:
        # DRF views authenticate on their own (API keys, OTP bearer). The admin's views get no
        # exemption: they need both factors here, then can_use_admin_site in the admin site.
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return PUBLIC
        level = getattr(view_class, "access_level", None)
    return level


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        level = _access_level(view_func)
        if level == PUBLIC or request.path_info.startswith(settings.STATIC_URL):
            return None
        user = request.user
        if not user.is_authenticated:
            login_url = resolve_url(settings.LOGIN_URL)
            return HttpResponseRedirect(f"{login_url}?{urlencode({'next': _way_back(request)})}")
        if level == PASSWORD_ONLY or user.is_verified():
            return None
        step = "accounts:verify" if user_has_device(user, confirmed=True) else "accounts:enroll"
        return HttpResponseRedirect(
            f"{resolve_url(step)}?{urlencode({'next': request.get_full_path()})}"
        )


def _way_back(request: HttpRequest) -> str:
    """Where the login leads afterwards. A form sent after the session ended (in another tab,
    say) cannot be sent again by a redirect: back to the page it was sent from, when that page
    is of this site, else to the address it was sent to."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path
    return request.path
