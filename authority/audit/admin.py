"""The audit trail in the admin: read-only, because it is append-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from authority.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    list_display = ["created_at", "actor_username", "action", "region", "target"]
    list_filter = ["action", "region"]
    search_fields = ["actor_username", "target"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
