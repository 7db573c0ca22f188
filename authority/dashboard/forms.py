"""The dashboard's filter: a range of days and a region (supervisors: always their own)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from authority.accounts import permissions
from authority.accounts.models import Region
from authority.dashboard.selectors import Scope
from authority.statistics.services import local_day


class DashboardFilterForm(forms.Form):
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("Whole country"),
    )

    def __init__(self, data: QueryDict | None, *, user: Any) -> None:
        super().__init__(data)
        self.user = user
        field = self.fields["region"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = permissions.statistics_regions(user).order_by("name")
        if not permissions.can_view_region(user, None):
            # Locked to one region: nothing to choose, no "whole country".
            field.empty_label = None
            field.disabled = True
            field.initial = field.queryset.first()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        elif since and until and (until - since).days >= settings.DASHBOARD_MAX_DAYS:
            self.add_error(
                "since",
                _("Choose at most %(days)s days.") % {"days": settings.DASHBOARD_MAX_DAYS},
            )
        return cleaned

    def scope(self) -> Scope:
        """The scope asked for, or the default one (the last days, own region or the country)."""
        today = local_day()
        data = self.cleaned_data if self.is_valid() else {}
        until = min(data.get("until") or today, today)
        since = data.get("since") or until - timedelta(days=settings.DASHBOARD_DEFAULT_DAYS - 1)
        since = min(since, until)
        region = data.get("region") or self.fields["region"].initial
        return Scope(since=since, until=until, region=region)


def scope_from_request(params: QueryDict, user: Any) -> tuple[DashboardFilterForm, Scope]:
    """The filter form and its scope; PermissionDenied for a region the user may not see."""
    if not permissions.can_view_statistics(user):
        raise PermissionDenied
    code = params.get("region")
    if code and not permissions.statistics_regions(user).filter(code=code).exists():
        raise PermissionDenied
    form = DashboardFilterForm(params or None, user=user)
    scope = form.scope()
    if not form.is_bound:
        form.initial.update(since=scope.since, until=scope.until)
    if not permissions.can_view_region(user, scope.region):
        raise PermissionDenied
    return form, scope
