"""A forgotten password: asking for a link, and choosing a new password with it.

Django's password-reset views, with our service behind them: the request page hands the
e-mail to the worker and answers the same whether or not the address is anyone's; the link's
token travels in one request only (Django's view keeps it in the session and moves to
`.../set-password/`, as the invitation does); a used, expired or deactivated person's link is
refused; the new password does not log anyone in, so the second factor is asked at the login.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from authority.accounts.access import PUBLIC
from authority.accounts.forms import ForgottenPasswordForm, NewPasswordForm
from authority.accounts.models import User
from authority.accounts.services import password_reset
from tasks.mail import send_password_resets


class ForgottenPasswordView(auth_views.PasswordResetView):
    access_level = PUBLIC
    form_class = ForgottenPasswordForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_sent")

    def form_valid(self, form: Any) -> HttpResponse:
        password_reset.request_password_reset(
            email=form.cleaned_data["email"],
            language=get_language(),
            send=send_password_resets.delay,
        )
        return HttpResponseRedirect(self.get_success_url())


class ResetLinkSentView(auth_views.PasswordResetDoneView):
    access_level = PUBLIC
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "minutes": settings.PASSWORD_RESET_LINK_MINUTES,
            "interval": settings.PASSWORD_RESET_EMAIL_INTERVAL_MINUTES,
        }


class NewPasswordView(auth_views.PasswordResetConfirmView):
    access_level = PUBLIC
    form_class = NewPasswordForm
    token_generator = password_reset.reset_links
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        # A deactivated person's link stays unused; so does one made before an administrator
        # disabled the password (a new invitation is the way back then).
        if user is None or not user.is_active or not user.has_usable_password():
            return None
        return user

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            password_reset.reset_password(
                user=form.user, password=form.cleaned_data["new_password1"]
            )
        except password_reset.LinkAlreadyUsed:
            self.validlink = False
            return self.render_to_response(self.get_context_data(form=None))
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        messages.success(
            self.request,
            _("Your new password is set. Log in with it; your second factor is asked as usual."),
        )
        return HttpResponseRedirect(self.get_success_url())

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        # A refused link is a refused request, as for invitations (and no cache keeps it).
        if not self.validlink:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)
