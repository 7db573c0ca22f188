"""The Django admin, open only to administrators who passed the second factor."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from authority.accounts.access import staff_member
from authority.accounts.permissions import can_use_admin_site
from authority.accounts.services import people

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class AuthorityAdminSite(AdminSite):
    site_header = _("Exposure Notification Authority – administration")
    site_title = _("Authority administration")
    index_title = _("Administration")

    def has_permission(self, request: HttpRequest) -> bool:
        return can_use_admin_site(request.user)

    def admin_view(self, view: View, cacheable: bool = False) -> View:
        protected = super().admin_view(view, cacheable)

        @wraps(view)
        def refuse_signed_in_non_administrators(
            request: HttpRequest, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            # Signed-in staff without the role get a plain 403, not a detour via a login page.
            user = request.user
            if user.is_authenticated and user.is_verified() and not self.has_permission(request):
                raise PermissionDenied
            return protected(request, *args, **kwargs)

        # `wraps` keeps the view's name and attributes, which mypy cannot see.
        return cast(View, refuse_signed_in_non_administrators)

    def password_change(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """Django's own page for the administrator's password, audited like every change
        of a person's password."""
        response = super().password_change(request, extra_context)
        if request.method == "POST" and response.status_code == 302:  # changed
            people.record_own_password_change(user=staff_member(request))
        return response

    def login(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        # One login for the whole site, with its second factor; the admin has none of its own.
        if request.user.is_authenticated and request.user.is_verified():
            raise PermissionDenied  # signed in, but not an administrator
        next_url = request.GET.get("next", resolve_url("admin:index"))
        return HttpResponseRedirect(
            f"{resolve_url('accounts:login')}?{urlencode({'next': next_url})}"
        )
