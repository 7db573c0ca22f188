"""The dashboard's filter: a range of days and a region (supervisors: always their own)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from authority.accounts import permissions
from authority.accounts.models import Region
from authority.dashboard.selectors import Scope
from authority.l10n import moments
from authority.l10n.widgets import IsoDateInput
from authority.statistics.services import local_day

# Exposure notification began in 2020: no counter is older. The far end leaves room for a
# date typed a little ahead (the range is cut at today anyway) but not for nonsense.
EARLIEST_DAY = date(2020, 1, 1)
LATEST_DAYS_AHEAD = 366


class DashboardFilterForm(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=IsoDateInput())
    until = forms.DateField(label=_("To"), required=False, widget=IsoDateInput())
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

    def _plausible(self, day: date | None) -> date | None:
        latest = local_day() + timedelta(days=LATEST_DAYS_AHEAD)
        if day is not None and not EARLIEST_DAY <= day <= latest:
            raise forms.ValidationError(
                _("Choose a date between %(earliest)s and %(latest)s.")
                % {"earliest": moments.long_date(EARLIEST_DAY), "latest": moments.long_date(latest)}
            )
        return day

    def clean_since(self) -> date | None:
        return self._plausible(self.cleaned_data.get("since"))

    def clean_until(self) -> date | None:
        return self._plausible(self.cleaned_data.get("until"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "since" not in cleaned or "until" not in cleaned:
            return cleaned  # a date already refused: its own message says why
        since, until = _effective_range(cleaned["since"], cleaned["until"])
        if cleaned["until"] is not None and since > cleaned["until"]:
            self.add_error("until", _("The end date is before the start date."))
        elif since > until:
            self.add_error("since", _("The start date is after today."))
        elif (until - since).days >= settings.DASHBOARD_MAX_DAYS:
            # The range that would be shown, whichever of the dates were left out.
            self.add_error(
                "since",
                _("Choose at most %(days)s days.") % {"days": settings.DASHBOARD_MAX_DAYS},
            )
        return cleaned

    def scope(self) -> Scope:
        """The scope asked for, or the default one (the last days, own region or the country)."""
        data = self.cleaned_data if self.is_valid() else {}
        since, until = _effective_range(data.get("since"), data.get("until"))
        region = data.get("region") or self.fields["region"].initial
        return Scope(since=min(since, until), until=until, region=region)


def _effective_range(since: date | None, until: date | None) -> tuple[date, date]:
    """The days shown: `until` cut at today (today if left out), `since` the default window
    before it if left out."""
    until = min(until or local_day(), local_day())
    return since or until - timedelta(days=settings.DASHBOARD_DEFAULT_DAYS - 1), until


def scope_from_request(params: QueryDict, user: Any) -> tuple[DashboardFilterForm, Scope]:
    """The filter form and its scope; PermissionDenied for a region the user may not see.

    An invalid filter gives the default scope: the page shows it with the form's errors; the
    data endpoints refuse it (`form.is_bound and not form.is_valid()`)."""
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
