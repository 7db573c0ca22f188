"""Opening an invitation link and choosing a first password with it.

The link's token is a secret (whoever holds it sets the account's password), so it travels in
one request only, as in Django's password reset: opening the link puts the token in this
browser's session and moves to an address without it, where the page and its form live. No
access log, referrer or browser history then carries the token beyond that first request.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from authority.accounts.access import public
from authority.accounts.services import invitations

# {uidb64: token} of the invitation links opened in this session, until a password is chosen.
INVITATION_TOKENS_SESSION_KEY = "accounts.invitation_tokens"


def _refused(request: HttpRequest, *, reopen: bool = False) -> HttpResponse:
    # `reopen`: this browser holds no token (its session ended, or the link was opened in
    # another browser); the link itself may well still work.
    return render(request, "accounts/invitation_invalid.html", {"reopen": reopen}, status=400)


@public
@never_cache
def open_invitation_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    if invitations.invited_user(uidb64=uidb64, token=token) is None:
        return _refused(request)
    tokens = request.session.get(INVITATION_TOKENS_SESSION_KEY, {})
    tokens[uidb64] = token
    request.session[INVITATION_TOKENS_SESSION_KEY] = tokens
    return redirect("accounts:choose_password", uidb64=uidb64)


@public
@never_cache
@sensitive_post_parameters()
def choose_password_view(request: HttpRequest, uidb64: str) -> HttpResponse:
    tokens = request.session.get(INVITATION_TOKENS_SESSION_KEY, {})
    if uidb64 not in tokens:
        return _refused(request, reopen=True)
    # Checked again on every request: the link may have expired or been used meanwhile.
    user = invitations.invited_user(uidb64=uidb64, token=tokens[uidb64])
    if user is None:
        return _refused(request)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.choose_first_password(
                user=user, password=form.cleaned_data["new_password1"]
            )
        except invitations.PasswordAlreadySet:
            return _refused(request)  # the same link submitted twice at once
        del tokens[uidb64]
        request.session[INVITATION_TOKENS_SESSION_KEY] = tokens
        messages.success(request, _("Your password is set. Log in to set up your second factor."))
        return redirect("accounts:login")
    return render(request, "accounts/accept_invitation.html", {"form": form, "invited_user": user})
