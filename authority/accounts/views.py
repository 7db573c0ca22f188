"""Login in two steps, second-factor enrolment, backup codes, and managing people."""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.templatetags.static import static
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device

from authority.accounts import permissions, services
from authority.accounts.access import password_only, public, staff_member
from authority.accounts.forms import EnrollForm, InviteForm, LoginForm, TokenForm
from authority.accounts.models import BackupCodeDevice, Role, TOTPDevice, User
from authority.audit.models import Action
from authority.audit.services import record_event

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
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, BackupCodeDevice):
                record_event(
                    action=Action.BACKUP_CODE_USED,
                    actor=user,
                    details={"remaining": device.codes.count()},
                )
            record_event(action=Action.LOGIN, actor=user)
            return redirect(_next_url(request))
        record_event(action=Action.SECOND_FACTOR_FAILED, actor=user)
        form.add_error(
            "token",
            _throttle_message(user) or _("That code is not valid. Codes change every 30 seconds."),
        )
    return render(
        request, "accounts/verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


def _throttle_message(user: User) -> str | None:
    # django-otp slows down guessing with growing delays; say so once it becomes noticeable.
    if TOTPDevice.objects.filter(
        user=user, confirmed=True, throttling_failure_count__gte=3
    ).exists():
        return _(
            "Too many wrong codes: each new attempt must wait longer. Wait a little, then enter the newest code from your app."
        )
    return None


@password_only
@never_cache  # shows the authenticator secret
def enroll_view(request: HttpRequest) -> HttpResponse:
    user = staff_member(request)
    if user_has_device(user, confirmed=True):
        return HttpResponseRedirect(_with_next("accounts:verify", request))
    device = services.pending_authenticator(
        user=user, pending_id=request.session.get(PENDING_AUTHENTICATOR_SESSION_KEY)
    )
    request.session[PENDING_AUTHENTICATOR_SESSION_KEY] = device.pk
    form = EnrollForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.confirm_authenticator(
            user=user, device=device, token=form.cleaned_data["token"]
        )  # type: ignore[arg-type]
        if codes is not None:
            del request.session[PENDING_AUTHENTICATOR_SESSION_KEY]
            otp_login(request, device)
            record_event(action=Action.LOGIN, actor=user)
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
        codes = services.replace_backup_codes(user=user)
        return render(request, "accounts/backup_codes.html", {"codes": codes, "first_time": False})
    return render(
        request, "accounts/backup_codes.html", {"remaining": services.remaining_backup_codes(user)}
    )


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record_event(action=Action.LOGOUT, actor=staff_member(request))
    auth_logout(request)
    messages.info(request, _("You have been logged out."))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@require_POST
def keepalive_view(request: HttpRequest) -> HttpResponse:
    """The session-expiry warning's "stay signed in": any request slides the session."""
    return HttpResponse(status=204)


def favicon_view(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed static name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


def home_view(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@public
@never_cache
def accept_invitation_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)), is_active=True)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        user = None
    # Invitations are for choosing a first password only: once one is set, no link works.
    if (
        user is None
        or user.has_usable_password()
        or not default_token_generator.check_token(user, token)
    ):
        return render(request, "accounts/invitation_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        record_event(action=Action.PASSWORD_SET, actor=user)
        messages.success(request, _("Your password is set. Log in to set up your second factor."))
        return redirect("accounts:login")
    return render(request, "accounts/accept_invitation.html", {"form": form, "invited_user": user})


@permissions.allowed_if(permissions.can_manage_people)
def people_view(request: HttpRequest) -> HttpResponse:
    people = (
        permissions.users_visible_to(request.user)
        .select_related("region")
        .order_by("region__name", "username")
    )
    query = request.GET.get("q", "").strip()
    if query:
        people = people.filter(username__icontains=query) | people.filter(
            last_name__icontains=query
        )
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/people.html",
        {"page": page, "query": query, "query_string": urlencode({"q": query}) if query else ""},
    )


@never_cache  # shows the invitation link
@permissions.allowed_if(permissions.can_manage_people)
def invite_view(request: HttpRequest) -> HttpResponse:
    actor = staff_member(request)
    form = InviteForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invitation = services.invite_user(
            actor=actor,
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            role=Role(data["role"]),
            region=data["region"] if permissions.is_administrator(actor) else actor.region,
        )
        return render(
            request,
            "accounts/invitation.html",
            {"invitation": invitation, "link": request.build_absolute_uri(invitation.path)},
        )
    return render(request, "accounts/invite.html", {"form": form})


@permissions.allowed_if(permissions.can_manage_people)
def person_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(
        permissions.users_visible_to(request.user).select_related("region"), pk=pk
    )
    return _person_page(request, person)


def _person_page(request: HttpRequest, person: User, *, status: int = 200) -> HttpResponse:
    context = {
        "person": person,
        "can_manage": permissions.can_manage_user(request.user, person),
        "has_second_factor": user_has_device(person, confirmed=True),
        "has_password": person.has_usable_password(),
        "backup_codes_left": services.remaining_backup_codes(person),
        "recent_events": permissions.audit_visible_to(request.user).filter(target=person.username)[
            :10
        ],
    }
    return render(request, "accounts/person.html", context, status=status)


PERSON_ACTIONS = {
    "deactivate",
    "reactivate",
    "reset-second-factor",
    "lift-lockout",
    "renew-invitation",
}


@never_cache  # renew-invitation shows the invitation link
@require_POST
@permissions.allowed_if(permissions.can_manage_people)
def person_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in PERSON_ACTIONS:
        raise Http404
    person = get_object_or_404(permissions.users_manageable_by(request.user), pk=pk)
    actor = staff_member(request)
    if action == "renew-invitation":
        try:
            invitation = services.renew_invitation(actor=actor, user=person)
        except services.PasswordAlreadySet:
            messages.error(
                request,
                _(
                    "%(name)s has already chosen a password. An invitation link would let "
                    "whoever holds it replace that password, so none was made."
                )
                % {"name": person.username},
            )
            return _person_page(request, person, status=409)
        return render(
            request,
            "accounts/invitation.html",
            {"invitation": invitation, "link": request.build_absolute_uri(invitation.path)},
        )
    if action in ("deactivate", "reactivate"):
        services.set_active(actor=actor, user=person, active=action == "reactivate")
        messages.success(
            request,
            _("%(name)s is now %(state)s.")
            % {
                "name": person.username,
                "state": _("active") if person.is_active else _("deactivated"),
            },
        )
    elif action == "reset-second-factor":
        services.reset_second_factor(actor=actor, user=person)
        messages.success(
            request,
            _("%(name)s will set up a new authenticator at their next login.")
            % {"name": person.username},
        )
    else:
        services.lift_lockout(actor=actor, user=person)
        messages.success(
            request, _("%(name)s can try to log in again.") % {"name": person.username}
        )
    return redirect("accounts:person", pk=person.pk)
