"""Codes and API keys in the admin: read-only (keys are created on their page, shown once)."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from authority.otps import services
from authority.otps.models import ApiKey, Otp

_M = TypeVar("_M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


@admin.register(Otp)
class OtpAdmin(ReadOnlyAdmin[Otp]):
    # Never the keyed hash: it is no use to a person, and one less thing to copy around.
    fields = list_display = [  # type: ignore[assignment]
        "id",
        "state",
        "origin",
        "region",
        "issued_by",
        "api_key",
        "created_at",
        "expires_at",
        "closed_at",
    ]
    list_filter = ["state", "origin", "region"]
    date_hierarchy = "created_at"


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin[ApiKey]):
    fields = list_display = [  # type: ignore[assignment]
        "name",
        "region",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    list_filter = ["region", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        # Needed for the revoke action; the form itself has only read-only fields.
        return obj is None

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        return list(self.fields or [])  # type: ignore[arg-type]

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = sum(
            services.revoke_api_key(actor=request.user, api_key=api_key)  # type: ignore[arg-type]
            for api_key in queryset.filter(revoked_at__isnull=True)
        )
        self.message_user(
            request,
            ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )
