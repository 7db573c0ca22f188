"""Admin for keys and publication: keys, batches and runs read-only; signing keys rotated, never revealed."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_POST
from django_stubs_ext import StrOrPromise

from authority.keys.models import Batch, ClaimedKey, ExposureKey, PublicationRun, SigningKey
from authority.keys.planning import hash_joins_only
from authority.keys.services.signing_keys import (
    SigningKeyError,
    retire_signing_key,
    rotate_signing_key,
)

_M = TypeVar("_M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    """Rows written only by the publication and retention services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: _M | None = None) -> bool:
        return False


class PublishedFilter(admin.SimpleListFilter):
    title = _("publication")
    parameter_name = "published"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[ExposureKey]
    ) -> list[tuple[str, StrOrPromise]]:
        # An exposure key (feminine in Italian), not a batch.
        return [
            ("yes", pgettext_lazy("exposure key", "Published")),
            ("pending", _("Being published")),
            ("no", _("Waiting")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ExposureKey]
    ) -> QuerySet[ExposureKey]:
        if self.value() == "yes":
            return queryset.filter(batch__status__in=[Batch.Status.PUBLISHED, Batch.Status.RETIRED])
        if self.value() == "pending":
            return queryset.filter(batch__status=Batch.Status.PENDING)
        if self.value() == "no":
            return queryset.filter(batch__isnull=True)
        return queryset


@admin.register(ExposureKey)
class ExposureKeyAdmin(ReadOnlyAdmin[ExposureKey]):
    list_display = [
        "key_prefix",
        "rolling_start_interval_number",
        "rolling_period",
        "report_type",
        "days_since_onset_of_symptoms",
        "region",
        "published_in",
    ]
    list_filter = [PublishedFilter, "report_type", "region"]
    list_select_related = ["region", "claim__batch"]
    show_full_result_count = False  # millions of rows: no COUNT(*) on every page
    exclude = ["key_data"]
    readonly_fields = ["key_prefix"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The list joins the claims table (the batch column, the publication filter): hash
        # joins only, rendered inside the block, where the queries run.
        with hash_joins_only():
            response = super().changelist_view(request, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()
        return response

    @admin.display(description=_("key"))
    def key_prefix(self, key: ExposureKey) -> str:
        # Enough to tell keys apart on screen; the full key is in the published file anyway.
        return f"{bytes(key.key_data).hex()[:8]}…"

    @admin.display(description=_("batch"))
    def published_in(self, key: ExposureKey) -> str:
        try:
            return str(key.claim.batch)
        except ClaimedKey.DoesNotExist:
            return "-"


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin[Batch]):
    list_display = [
        "index",
        "country",
        "status",
        "period_start",
        "period_end",
        "key_count",
        "padding_count",
        "size",
        "short_digest",
        "signing_key_versions",
        "published_at",
    ]
    list_filter = ["status", "country", "signing_key_versions"]
    date_hierarchy = "published_at"

    @admin.display(description=_("SHA-256"))
    def short_digest(self, batch: Batch) -> str:
        return batch.sha256[:16]


@admin.register(PublicationRun)
class PublicationRunAdmin(ReadOnlyAdmin[PublicationRun]):
    list_display = [
        "id",
        "created_at",
        "trigger",
        "requested_by",
        "status",
        "keys_selected",
        "padding_keys",
        "files_published",
        "finished_at",
    ]
    list_filter = ["status", "trigger"]
    list_select_related = ["requested_by"]
    date_hierarchy = "created_at"


SIGNING_KEY_FIELDS = (
    "key_id",
    "version",
    "algorithm",
    "public_key_pem",
    "source",
    "created_at",
    "created_by",
    "retired_at",
)


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin[SigningKey]):
    """Created only by rotation; the private key is neither a field nor a column shown here."""

    list_display = [
        "key_id",
        "version",
        "is_active",
        "source",
        "created_at",
        "created_by",
        "retired_at",
    ]
    list_filter = ["key_id", ("retired_at", admin.EmptyFieldListFilter)]
    fields = SIGNING_KEY_FIELDS
    readonly_fields = SIGNING_KEY_FIELDS
    actions = ["rotate", "retire"]
    change_list_template = "admin/keys/signingkey/change_list.html"

    @admin.display(description=_("active"), boolean=True)
    def is_active(self, key: SigningKey) -> bool:
        return key.retired_at is None

    @admin.display(description=_("private key kept"))
    def source(self, key: SigningKey) -> str:
        if key.private_key_file:
            return str(_("in a file outside the database"))
        return str(_("encrypted in the database"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SigningKey | None = None) -> bool:
        return obj is None  # the list and its actions; no edit form

    def has_delete_permission(self, request: HttpRequest, obj: SigningKey | None = None) -> bool:
        return False  # files signed with it must stay verifiable: retire instead

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "rotate/",
                self.admin_site.admin_view(require_POST(self.rotate_view)),
                name="keys_signingkey_rotate",
            ),
            *super().get_urls(),
        ]

    def rotate_view(self, request: HttpRequest) -> HttpResponse:
        self._rotate(request)
        return HttpResponseRedirect(reverse("admin:keys_signingkey_changelist"))

    def _rotate(self, request: HttpRequest) -> None:
        key = rotate_signing_key(actor=request.user)  # type: ignore[arg-type]
        self.message_user(
            request,
            _(
                "Signing key %(key)s created. It signs new files from now on, with the previous keys, until they are retired. Register its public key with Apple and Google."
            )
            % {"key": key},
            messages.SUCCESS,
        )

    @admin.action(description=_("Rotate: create a new signing key version"))
    def rotate(self, request: HttpRequest, queryset: QuerySet[SigningKey]) -> None:
        self._rotate(request)

    @admin.action(description=_("Retire the selected signing keys"))
    def retire(self, request: HttpRequest, queryset: QuerySet[SigningKey]) -> None:
        retired = 0
        for key in queryset.filter(retired_at=None).order_by("created_at"):
            try:
                retire_signing_key(actor=request.user, signing_key=key)  # type: ignore[arg-type]
            except SigningKeyError as error:
                self.message_user(request, str(error), messages.ERROR)
                break
            retired += 1
        if retired:
            self.message_user(
                request,
                ngettext(
                    "%(count)d signing key retired.", "%(count)d signing keys retired.", retired
                )
                % {"count": retired},
                messages.SUCCESS,
            )
