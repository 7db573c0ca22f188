"""Admin for the federation: runs, gateway uploads and received batches, read-only (written by the runs alone)."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from authority.federation.models import FederationRun, InboundBatch, InboundChunk, OutboundBatch

_M = TypeVar("_M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


@admin.register(FederationRun)
class FederationRunAdmin(ReadOnlyAdmin[FederationRun]):
    list_display = ["id", "kind", "trigger", "status", "started_at", "finished_at", "batches",
                    "keys_shared", "keys_received", "keys_refused", "keys_invalid"]  # fmt: skip
    list_filter = ["kind", "status", "trigger"]
    search_fields = ["message"]


@admin.register(OutboundBatch)
class OutboundBatchAdmin(ReadOnlyAdmin[OutboundBatch]):
    list_display = [
        "batch_tag",
        "status",
        "key_count",
        "attempts",
        "last_status",
        "created_at",
        "first_sent_at",
        "finished_at",
    ]
    list_filter = ["status", "last_status"]
    search_fields = ["batch_tag"]
    exclude = ["batch_signature", "leased_until"]


class InboundChunkInline(admin.TabularInline[InboundChunk, InboundBatch]):
    model = InboundChunk
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "position", "country", "key_count", "uploaded_at", "verified", "reason", "message",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest, obj: InboundBatch | None = None) -> bool:
        return False


class RefusedFilter(admin.SimpleListFilter):
    title = _("refusals")
    parameter_name = "refused"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[InboundBatch]
    ) -> list[tuple[str, StrOrPromise]]:
        return [("yes", _("With refused parts"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[InboundBatch]
    ) -> QuerySet[InboundBatch]:
        if self.value() == "yes":
            return queryset.filter(chunks__verified=False).distinct()
        return queryset


@admin.register(InboundBatch)
class InboundBatchAdmin(ReadOnlyAdmin[InboundBatch]):
    list_display = ["batch_tag", "batch_date", "status", "keys_received", "keys_accepted",
                    "keys_refused", "keys_invalid", "keys_duplicate", "downloaded_at"]  # fmt: skip
    list_filter = ["status", RefusedFilter, "batch_date"]
    search_fields = ["batch_tag"]
    inlines = [InboundChunkInline]
