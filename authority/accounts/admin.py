"""Admin for regions and people: every change audited, second-factor secrets never shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from authority.accounts import services
from authority.accounts.access import staff_member
from authority.accounts.models import Province, Region, User
from authority.audit.models import Action
from authority.audit.services import record_event

# Device rows hold TOTP secrets and backup codes: administrators reset them, never read them.
for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ProvinceInline(admin.TabularInline):
    model = Province
    extra = 0
    fields = ["code", "name"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "is_active", "province_codes"]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "provinces__code"]
    inlines = [ProvinceInline]

    @admin.display(description=_("provinces"))
    def province_codes(self, region: Region) -> str:
        return ", ".join(province.code for province in region.provinces.all())

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("provinces")

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        record_event(
            action=Action.REGION_CHANGED,
            actor=staff_member(request),
            region=obj,
            target=obj.name,
            details={"fields": sorted(form.changed_data)},
        )  # type: ignore[arg-type]


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name"]


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = [
        "username",
        "first_name",
        "last_name",
        "role",
        "region",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "region", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email")}),
        (_("Role"), {"fields": ("role", "region", "is_active")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "role",
                    "region",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    actions = ["reset_second_factor"]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        record_event(
            action=Action.USER_CHANGED if change else Action.USER_CREATED,
            actor=staff_member(request),
            region=obj.region,
            target=obj.username,
            details={
                "fields": sorted(
                    f for f in form.changed_data if f not in ("password", "password1", "password2")
                )
            },
        )

    @admin.action(description=_("Reset second factor (they enrol again at next login)"))
    def reset_second_factor(self, request: HttpRequest, queryset: Any) -> None:
        for user in queryset.exclude(pk=request.user.pk):
            services.reset_second_factor(actor=staff_member(request), user=user)
        self.message_user(request, _("Second factors reset."))
