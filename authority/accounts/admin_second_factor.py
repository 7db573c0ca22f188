"""The second factor in the admin: who has an authenticator app or backup codes, and a reset for
people who lost them. Read-only, and never a secret.

These are our own devices (authority.accounts.models): the authenticator's seed sealed at rest,
the backup codes as keyed hashes. django-otp's TOTPDevice and StaticDevice, whose admin would
show seeds and codes in clear (and only in English), hold no rows since migrations 0005 and 0007
moved them into ours, and stay out of the admin (admin.py). Every column, filter and action is labelled here, in our catalogue:
django-otp's fields have no translatable names of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from authority.accounts import permissions
from authority.accounts.access import staff_member
from authority.accounts.models import BackupCodeDevice, TOTPDevice, User
from authority.accounts.services import people
from authority.l10n import moments

SecondFactorDevice = TypeVar("SecondFactorDevice", TOTPDevice, BackupCodeDevice)


class SecondFactorAdmin(admin.ModelAdmin[SecondFactorDevice]):
    """What both kinds of device show: whose it is, when it was made and last used, and whether
    wrong codes have paused it."""

    list_select_related = ["user__region"]
    list_filter = ["user__region", "user__role"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    search_help_text = _("Username, first name or last name.")
    ordering = ["user__username"]
    actions = ["reset_second_factor"]

    # A device comes only from its owner's enrolment: one made here would have a seed nobody
    # holds. Editing one would change how codes are checked; deleting one is a reset, which is
    # audited (the action below). So the pages only show.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("person"), ordering="user__username")
    def person(self, device: SecondFactorDevice) -> SafeString:
        user = device.user
        url = reverse("admin:accounts_user_change", args=[user.pk])
        full_name = user.get_full_name()
        if full_name:
            return format_html('<a href="{}">{}</a> ({})', url, user.username, full_name)
        return format_html('<a href="{}">{}</a>', url, user.username)

    @admin.display(description=_("region"), ordering="user__region__name")
    def region(self, device: SecondFactorDevice) -> str | None:
        region = device.user.region
        return region.name if region is not None else None

    @admin.display(description=pgettext_lazy("second factor", "set up on"), ordering="created_at")
    def created(self, device: SecondFactorDevice) -> str:
        return self._moment(device.created_at)

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, device: SecondFactorDevice) -> str:
        return self._moment(device.last_used_at)

    @admin.display(description=_("wrong codes in a row"), ordering="throttling_failure_count")
    def wrong_codes(self, device: SecondFactorDevice) -> int:
        return device.throttling_failure_count

    @admin.display(description=_("codes refused until"))
    def paused_until(self, device: SecondFactorDevice) -> str:
        allowed, details = device.verify_is_allowed()
        until = None if allowed or not details else details.get("locked_until")
        return self._moment(until, zone=True)

    def _moment(self, value: datetime | None, *, zone: bool = False) -> str:
        # As text: the admin would print a read-only field's datetime (or None) as Python does.
        if value is None:
            return str(self.get_empty_value_display())
        return moments.short_datetime(value, zone=zone)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Django's "Select %s to view" is worded for a masculine noun in Italian.
        title = {"title": capfirst(self.opts.verbose_name_plural)}
        return super().changelist_view(request, {**title, **(extra_context or {})})

    @admin.action(
        description=_(
            "Reset the second factor of these people (they set it up again at their next login)"
        )
    )
    def reset_second_factor(
        self, request: HttpRequest, queryset: QuerySet[SecondFactorDevice]
    ) -> None:
        actor = staff_member(request)
        owners = User.objects.filter(pk__in=queryset.values("user_id"))
        manageable = permissions.users_manageable_by(actor).filter(pk__in=owners)
        reset = 0
        for user in manageable:
            people.reset_second_factor(actor=actor, user=user)
            reset += 1
        if reset:
            self.message_user(
                request,
                ngettext(
                    "Second factor reset for %(count)d person: they set it up again at their "
                    "next login.",
                    "Second factor reset for %(count)d people: they set it up again at their "
                    "next login.",
                    reset,
                )
                % {"count": reset},
                messages.SUCCESS,
            )
        if owners.filter(pk=actor.pk).exists():
            self.message_user(
                request,
                _("Your own second factor is not reset here: ask another administrator."),
                messages.WARNING,
            )


class SetUpFilter(admin.SimpleListFilter):
    title = pgettext_lazy("authenticator app", "state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("set-up", pgettext_lazy("authenticator app", "Set up")),
            ("waiting", _("Waiting for the first code")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "set-up":
            return queryset.filter(confirmed=True)
        if self.value() == "waiting":
            return queryset.filter(confirmed=False)
        return queryset


@admin.register(TOTPDevice)
class AuthenticatorAppAdmin(SecondFactorAdmin[TOTPDevice]):
    list_display = ["person", "region", "state", "created", "last_used", "wrong_codes"]
    list_filter = [SetUpFilter, "user__region", "user__role"]
    fields = ("person", "region", "state", "created", "last_used", "wrong_codes", "paused_until")
    readonly_fields = fields

    @admin.display(description=pgettext_lazy("authenticator app", "state"), ordering="confirmed")
    def state(self, device: TOTPDevice) -> str:
        # Unconfirmed: enrolment was started and no code from the app has been typed yet.
        if device.confirmed:
            return pgettext("authenticator app", "Set up")
        return gettext("Waiting for the first code")


@admin.register(BackupCodeDevice)
class BackupCodesAdmin(SecondFactorAdmin[BackupCodeDevice]):
    list_display = ["person", "region", "codes_left", "created", "last_used", "wrong_codes"]
    fields = (
        "person",
        "region",
        "codes_left",
        "created",
        "last_used",
        "wrong_codes",
        "paused_until",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[BackupCodeDevice]:
        return super().get_queryset(request).annotate(unused_codes=Count("codes"))

    @admin.display(description=_("codes left"), ordering="unused_codes")
    def codes_left(self, device: BackupCodeDevice) -> int:
        return int(getattr(device, "unused_codes", 0))
