"""Forms of the code pages: the onset date (issue), plus the app's code (authorize), API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from authority.accounts import permissions
from authority.accounts.models import Region, User
from authority.formats.otp import ALPHABET, OTP_LENGTH, OtpFormatError, normalize_otp, parse_otp
from authority.l10n.widgets import IsoDateInput
from authority.otps.models import OnsetKind
from authority.otps.services import validate_onset_date
from authority.statistics.services import local_day


def otp_error_message(raw: str, error: OtpFormatError) -> str:
    """Say in the interface language what is wrong with a typed code, and what to do."""
    code = normalize_otp(raw)
    if error.reason == "length":
        return str(
            _(
                "A code has %(expected)s characters; this one has %(count)s. Check that none is"
                " missing or typed twice."
            )
            % {"expected": OTP_LENGTH, "count": len(code)}
        )
    if error.reason == "character":
        wrong = next((char for char in code if char not in ALPHABET), "?")
        return str(
            _(
                "“%(char)s” is never used in codes (they have no 0, O, B, C, D, G, M, N, P, T or V)."
                " Check what the app shows."
            )
            % {"char": wrong}
        )
    return str(
        _(
            "This code is not valid: it was probably mistyped. Read it again with the patient,"
            " one character at a time."
        )
    )


class OnsetForm(forms.Form):
    onset_kind = forms.ChoiceField(
        label=_("Which date do you have?"),
        choices=[
            (OnsetKind.SYMPTOMS.value, _("The patient has symptoms: the day they started")),
            (OnsetKind.TEST.value, _("The patient has no symptoms: the day of the positive test")),
        ],
        initial=OnsetKind.SYMPTOMS.value,
        widget=forms.RadioSelect,
    )
    onset_date = forms.DateField(
        label=_("Date"),
        widget=IsoDateInput(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = local_day()
        max_age = settings.OTP_ONSET_MAX_AGE_DAYS
        earliest = today - timedelta(days=max_age)
        self.fields["onset_date"].widget.attrs.update(
            {"max": today.isoformat(), "min": earliest.isoformat()}
        )
        self.fields["onset_date"].help_text = _(
            "Not in the future, and at most %(days)s days ago."
        ) % {"days": max_age}

    def clean_onset_date(self) -> Any:
        onset_date = self.cleaned_data["onset_date"]
        validate_onset_date(onset_date)
        return onset_date

    @property
    def onset_kind_value(self) -> OnsetKind:
        return OnsetKind(self.cleaned_data["onset_kind"])


class IssueForm(OnsetForm):
    # Each rendering of the form gets a token that works once: resending the form (reload,
    # back button, double click) cannot issue a second code by accident.
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class AuthorizeForm(OnsetForm):
    code = forms.CharField(
        label=_("Code shown in the patient's app"),
        max_length=32,
        help_text=_("10 characters. Spaces and dashes are ignored."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "autofocus": True,
                "class": "otp-input",
            }
        ),
    )
    field_order = ["code", "onset_kind", "onset_date"]

    def clean_code(self) -> str:
        raw = self.cleaned_data["code"]
        try:
            return parse_otp(raw)
        except OtpFormatError as error:
            raise ValidationError(otp_error_message(raw, error), code=error.reason) from None


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Which system uses it, e.g. “Laboratory information system, Rome”."),
    )
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        assert isinstance(region, forms.ModelChoiceField)
        region.queryset = permissions.api_key_regions(actor)
        if not permissions.is_administrator(actor):
            region.initial = actor.region
            region.disabled = True
