"""Logging in, in two steps (password, then a second factor), enrolling an authenticator,
backup codes, logging out, and keeping a session alive."""

from __future__ import annotations

from base64 import b32encode
from datetime import datetime
from math import ceil
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from authority.accounts.access import password_only, public, staff_member
from authority.accounts.forms import EnrollForm, LoginForm, TokenForm
from authority.accounts.services import sign_in

# The unconfirmed authenticator this login session was shown: its secret is for this session only.
PENDING_AUTHENTICATOR_SESSION_KEY = "accounts.pending_authenticator"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, request: HttpRequest) -> str:
    target = reverse(name)
    next_url = request.POST.get("next") or request.GET.get("next")
    # Encoded: a next of "/statistics/?since=...&region=3" must not lose its "&region=3".
    # Where it finally leads is checked by _next_url, when it is followed.
    return f"{target}?{urlencode({'next': next_url})}" if next_url else target


@public
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and staff_member(request).is_verified():
        return redirect(_next_url(request))
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        auth_login(request, user)
        step = "accounts:verify" if user_has_device(user, confirmed=True) else "accounts:enroll"
        return HttpResponseRedirect(_with_next(step, request))
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", ""), "expired": "expired" in request.GET},
    )


@password_only
def verify_view(request: HttpRequest) -> HttpResponse:
    user = staff_member(request)
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user, confirmed=True):
        return HttpResponseRedirect(_with_next("accounts:enroll", request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = sign_in.verify_second_factor(user=user, token=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request))
        wait_until = sign_in.second_factor_wait(user)
        form.add_error("token", _wrong_code_message(wait_until))
    return render(
        request, "accounts/verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


# Shorter waits pass while the person reads the message: it says only that the code was wrong.
NOTICEABLE_WAIT_SECONDS = 3


def _wrong_code_message(wait_until: datetime | None) -> str:
    seconds = (wait_until - timezone.now()).total_seconds() if wait_until else 0
    if seconds < NOTICEABLE_WAIT_SECONDS:
        return _("That code is not valid. Codes change every 30 seconds.")
    if seconds < 60:
        seconds = ceil(seconds)
        wait = ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    else:
        minutes = ceil(seconds / 60)
        wait = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    return _(
        "Too many wrong codes. Wait %(wait)s (until %(time)s), then enter the newest code from "
        "your app. Backup codes wait too. Each wrong code makes the next wait twice as long."
    ) % {
        "wait": wait,
        "time": formats.time_format(timezone.localtime(wait_until), "H:i:s"),
    }


@password_only
@never_cache  # shows the authenticator secret
def enroll_view(request: HttpRequest) -> HttpResponse:
    user = staff_member(request)
    if user_has_device(user, confirmed=True):
        return HttpResponseRedirect(_with_next("accounts:verify", request))
    device = sign_in.pending_authenticator(
        user=user, pending_id=request.session.get(PENDING_AUTHENTICATOR_SESSION_KEY)
    )
    request.session[PENDING_AUTHENTICATOR_SESSION_KEY] = device.pk
    form = EnrollForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = sign_in.confirm_authenticator(
            user=user, device=device, token=form.cleaned_data["token"]
        )
        if codes is not None:
            del request.session[PENDING_AUTHENTICATOR_SESSION_KEY]
            otp_login(request, device)
            return render(
                request,
                "accounts/backup_codes.html",
                {"codes": codes, "first_time": True, "next": _next_url(request)},
            )
        form.add_error(
            "token",
            _("That code does not match. Check the phone's clock and enter the newest code."),
        )
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/enroll.html",
        {
            "form": form,
            "qr_data_uri": segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "next": request.GET.get("next", ""),
        },
    )


@never_cache  # shows backup codes
def backup_codes_view(request: HttpRequest) -> HttpResponse:
    user = staff_member(request)
    if request.method == "POST":
        codes = sign_in.replace_backup_codes(user=user)
        return render(request, "accounts/backup_codes.html", {"codes": codes, "first_time": False})
    return render(
        request, "accounts/backup_codes.html", {"remaining": sign_in.remaining_backup_codes(user)}
    )


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        sign_in.record_logout(user=staff_member(request))
    auth_logout(request)
    messages.info(request, _("You have been logged out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_POST
def keepalive_view(request: HttpRequest) -> HttpResponse:
    """The session-expiry warning's "stay signed in": any request slides the session."""
    return HttpResponse(status=204)
