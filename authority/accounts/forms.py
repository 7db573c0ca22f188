"""Forms of the login steps and of people management."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from authority.accounts import permissions
from authority.accounts.models import Region, Role, User


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("That username and password do not match an active account."),
        "inactive": _("This account has been deactivated. Ask your supervisor."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )

    def clean_token(self) -> str:
        return "".join(self.cleaned_data["token"].split()).lower()


class EnrollForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not (len(token) == 6 and token.isdigit()):
            raise forms.ValidationError(_("Enter the 6 digits your app shows."))
        return token


class InviteForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=User._meta.get_field("username").validators,
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(
        label=_("Work e-mail"),
        help_text=_("The invitation link is sent here. Password resets and notices go here later."),
    )
    language = forms.ChoiceField(
        label=_("Language of the e-mails"), choices=settings.LANGUAGES, initial="it"
    )
    role = forms.ChoiceField(label=_("Role"))
    region: forms.ModelChoiceField[Region] = forms.ModelChoiceField(
        label=_("Region"), queryset=Region.objects.none(), required=False
    )

    def __init__(self, *args: Any, actor: User, language: str = "it", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        # The inviter's language is the likeliest guess; the person's logins change it later.
        if language in dict(settings.LANGUAGES):
            self.fields["language"].initial = language
        roles = permissions.assignable_roles(actor)
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            (role.value, role.label) for role in roles
        ]
        cast(
            forms.ModelChoiceField[Region], self.fields["region"]
        ).queryset = permissions.assignable_regions(actor)
        if not permissions.is_administrator(actor):
            self.fields["role"].initial = Role.OPERATOR
            self.fields["region"].initial = actor.region
            self.fields["region"].disabled = True

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This username is already taken."))
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("role")
            and cleaned["role"] != Role.ADMINISTRATOR
            and not cleaned.get("region")
        ):
            self.add_error("region", _("Operators and supervisors belong to a region."))
        return cleaned


class ForgottenPasswordForm(PasswordResetForm):
    """Django's form, with the address field as people fill it; the view sends nothing itself
    (services/password_reset.py hands the e-mails to the worker)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Your work e-mail")
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "autofocus": True})


class NewPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """A new password chosen through a reset link (its save is services.password_reset's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].widget.attrs.update({"autofocus": True})
