"""Admin for the federation: runs, gateway uploads and received batches, read-only (written by the runs alone)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from authority.federation.models import FederationRun, InboundBatch, InboundChunk, OutboundBatch


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FederationRun)
class FederationRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "trigger", "status", "started_at", "finished_at", "batches",
                    "keys_shared", "keys_received", "keys_refused", "keys_invalid"]  # fmt: skip
    list_filter = ["kind", "status", "trigger"]
    search_fields = ["message"]


@admin.register(OutboundBatch)
class OutboundBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "batch_tag",
        "status",
        "key_count",
        "attempts",
        "last_status",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "last_status"]
    search_fields = ["batch_tag"]
    exclude = ["batch_signature", "leased_until"]


class InboundChunkInline(admin.TabularInline):
    model = InboundChunk
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "position", "country", "key_count", "uploaded_at", "verified", "reason", "message",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefusedFilter(admin.SimpleListFilter):
    title = _("refusals")
    parameter_name = "refused"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("With refused parts"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(chunks__verified=False).distinct()
        return queryset


@admin.register(InboundBatch)
class InboundBatchAdmin(ReadOnlyAdmin):
    list_display = ["batch_tag", "batch_date", "status", "keys_received", "keys_accepted",
                    "keys_refused", "keys_invalid", "keys_duplicate", "downloaded_at"]  # fmt: skip
    list_filter = ["status", RefusedFilter, "batch_date"]
    search_fields = ["batch_tag"]
    inlines = [InboundChunkInline]
