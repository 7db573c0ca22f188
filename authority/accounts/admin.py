"""Admin for regions and people: every change audited, second-factor secrets never shown.

Administrators never change their own role, region or active flag here (as on the people
pages), the system always keeps an active administrator, and people are deactivated, not
deleted: the audit trail names them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_static.models import StaticDevice as DjangoOtpStaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice as DjangoOtpTOTPDevice

from authority.accounts import admin_second_factor  # noqa: F401  (registers the devices' pages)
from authority.accounts.access import staff_member
from authority.accounts.models import Province, Region, User
from authority.accounts.services import people

# django-otp's own devices keep TOTP seeds and backup codes in clear, and no rows since our
# devices replaced them (migration 0007): their admin pages, which would show those secrets,
# stay off. Ours are in admin_second_factor.py.
for model in (DjangoOtpTOTPDevice, DjangoOtpStaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
# What people may do follows their role (permissions.py); a group would grant nothing, and
# nobody can be put in one (StaffAdmin has no groups field).
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class ProvinceInline(admin.TabularInline[Province, Region]):
    model = Province
    extra = 0
    fields = ["code", "name"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin[Region]):
    list_display = ["name", "code", "is_active", "province_codes"]
    list_filter = ["is_active"]
    search_fields = ["name", "code", "provinces__code"]
    inlines = [ProvinceInline]

    @admin.display(description=_("provinces"))
    def province_codes(self, region: Region) -> str:
        return ", ".join(province.code for province in region.provinces.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Region]:
        return super().get_queryset(request).prefetch_related("provinces")

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: bool) -> None:
        people.save_region(
            actor=staff_member(request), region=obj, changed_fields=form.changed_data
        )


@admin.register(Province)
class ProvinceAdmin(admin.ModelAdmin[Province]):
    list_display = ["code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name"]


# What the rule "never themselves" of permissions.users_manageable_by locks on one's own record.
OWN_LOCKED_FIELDS = ("role", "region", "is_active")


class StaffChangeForm(UserChangeForm[User]):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user = self.instance
        # Fields shown read-only are not in the form: they keep the record's values.
        role = cleaned.get("role", user.role)
        is_active = cleaned.get("is_active", user.is_active)
        if not people.keeps_an_active_administrator(user=user, role=role, is_active=is_active):
            raise ValidationError(
                _(
                    "This is the last active administrator: make someone else an administrator "
                    "first."
                )
            )
        return cleaned


@admin.register(User)
class StaffAdmin(UserAdmin[User]):
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
        (_("Person"), {"fields": ("first_name", "last_name", "email", "language")}),
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
    form = StaffChangeForm
    actions = ["reset_second_factor"]

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            fields += OWN_LOCKED_FIELDS
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Deactivate instead: audit entries keep pointing to the person, and a deletion would
        # leave no trace of who did it.
        return False

    @method_decorator(sensitive_post_parameters())
    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Django's page, audited whenever it changed or disabled a password."""
        user = self.get_object(request, unquote(id))
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if user is not None and request.method == "POST":
                before = user.password
                user.refresh_from_db(fields=["password"])
                if user.password != before:
                    people.record_password_change(actor=staff_member(request), user=user)
        return response

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        people.save_person(
            actor=staff_member(request),
            user=obj,
            changed_fields=form.changed_data,
            created=not change,
        )

    @admin.action(description=_("Reset second factor (they enrol again at next login)"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset.exclude(pk=staff_member(request).pk):
            people.reset_second_factor(actor=staff_member(request), user=user)
        self.message_user(request, _("Second factors reset."))
