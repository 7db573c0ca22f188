"""The audit trail page: supervisors see their region's entries, administrators all.

It lives with the people pages, not in authority/audit: it applies the roles of accounts,
and accounts sits above the audit trail (every app writes to the trail; the trail itself
knows nothing of roles)."""

from __future__ import annotations

from datetime import datetime, time
from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from authority.accounts import permissions
from authority.accounts.audit_details import shown_details
from authority.accounts.models import Region
from authority.audit.models import Action
from authority.audit.verification import latest_report, unresolved_checkpoint_alarm
from authority.l10n.widgets import IsoDateInput


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    person = forms.CharField(
        label=_("Person (actor or subject)"),
        required=False,
        max_length=150,
        help_text=_("A username, exactly."),
    )
    region = forms.ModelChoiceField(
        label=_("Region"), queryset=Region.objects.all(), required=False
    )
    since = forms.DateField(label=_("From"), required=False, widget=IsoDateInput())
    until = forms.DateField(label=_("To"), required=False, widget=IsoDateInput())

    def __init__(self, *args: object, show_region: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        cast(forms.ChoiceField, self.fields["action"]).choices = [
            ("", _("Any action")),
            *Action.choices,
        ]
        if not show_region:
            del self.fields["region"]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned


@permissions.allowed_if(permissions.can_view_audit)
def audit_trail_view(request: HttpRequest) -> HttpResponse:
    entries = permissions.audit_visible_to(request.user).select_related("region")
    form = AuditFilterForm(
        request.GET or None, show_region=permissions.is_administrator(request.user)
    )
    if form.is_bound and not form.is_valid():
        # Dropping only the invalid filter would list more than was asked for.
        entries = entries.none()
        messages.warning(request, _("No entries are listed until the filters are corrected."))
    elif form.is_valid():
        data = form.cleaned_data
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("actor"):
            entries = entries.filter(actor_username__icontains=data["actor"])
        if data.get("person"):
            entries = entries.filter(Q(actor_username=data["person"]) | Q(target=data["person"]))
        if data.get("region"):
            entries = entries.filter(region=data["region"])
        zone = timezone.get_current_timezone()
        if data.get("since"):
            entries = entries.filter(
                created_at__gte=datetime.combine(data["since"], time.min, zone)
            )
        if data.get("until"):
            entries = entries.filter(
                created_at__lte=datetime.combine(data["until"], time.max, zone)
            )
    page = Paginator(entries, settings.AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(entry, shown_details(entry.details)) for entry in page]
    # The whole trail's integrity is national: administrators see it.
    show_integrity = permissions.is_administrator(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "page": page,
            "rows": rows,
            "time_zone": settings.TIME_ZONE,
            "form": form,
            "query_string": query.urlencode(),
            "show_integrity": show_integrity,
            "integrity": latest_report() if show_integrity else None,
            "checkpoint_alarm": unresolved_checkpoint_alarm() if show_integrity else None,
        },
    )
