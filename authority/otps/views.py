"""Pages of patient codes: issue, authorize, follow and revoke them; manage HIS API keys."""

from __future__ import annotations

import secrets

import segno
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from authority.accounts import permissions
from authority.accounts.models import User
from authority.formats.otp import group_for_reading
from authority.formats.phonetic import spell
from authority.otps import selectors, services
from authority.otps.forms import ApiKeyForm, AuthorizeForm, IssueForm
from authority.otps.models import OtpState
from authority.otps.permissions import api_keys_visible_to, codes_visible_to

_ISSUE_TOKENS = "otp_issue_tokens"


def _new_issue_token(request: HttpRequest) -> str:
    token = secrets.token_urlsafe(16)
    # A few at a time: an operator may keep two tabs open.
    request.session[_ISSUE_TOKENS] = [*request.session.get(_ISSUE_TOKENS, [])[-4:], token]
    return token


def _spent_issue_token_key(token: str) -> str:
    return f"otps:issue-token-spent:{token}"


def _spend_issue_token(request: HttpRequest, token: str) -> bool:
    """Spend a token this session was given; of two requests sending it at once, one wins.

    Each request works on its own copy of the session, saved when it ends, so the session
    cannot arbitrate a double submission: the cache's atomic add does.
    """
    tokens = request.session.get(_ISSUE_TOKENS, [])
    if token not in tokens:
        return False
    # Dropped whichever request wins: the loser's copy of the session, saved last, must not
    # bring the token back.
    request.session[_ISSUE_TOKENS] = [given for given in tokens if given != token]
    # Only requests running at the same time need the mark, but it lives for a whole session.
    return cache.add(_spent_issue_token_key(token), True, timeout=settings.SESSION_COOKIE_AGE)


def _give_back_issue_token(request: HttpRequest, token: str) -> None:
    """No code was issued with the token: the same form may be sent again."""
    cache.delete(_spent_issue_token_key(token))
    request.session[_ISSUE_TOKENS] = [*request.session.get(_ISSUE_TOKENS, []), token]


def _quota_context(user: User) -> dict[str, int]:
    assert user.region is not None
    return {
        "issued_today": services.granted_today(region=user.region, operator=user),
        "operator_quota": settings.OTP_QUOTA_PER_OPERATOR_PER_DAY,
    }


@never_cache
@permissions.allowed_if(permissions.can_issue_codes)
def issue_view(request: HttpRequest) -> HttpResponse:
    """The code exists only in this POST response: never in the session, database or a GET."""
    operator: User = request.user  # type: ignore[assignment]
    if request.method != "POST":
        form = IssueForm(initial={"form_token": _new_issue_token(request)})
        return render(request, "otps/issue.html", {"form": form, **_quota_context(operator)})
    form = IssueForm(request.POST)
    if form.is_valid():
        token = form.cleaned_data["form_token"]
        if not _spend_issue_token(request, token):
            messages.warning(
                request,
                _(
                    "That form had already been sent, and its code was shown once only."
                    " If the patient still needs a code, issue a new one."
                ),
            )
            return redirect("otps:issue")
        try:
            issued = services.issue_otp(
                operator=operator,
                onset_date=form.cleaned_data["onset_date"],
                onset_kind=form.onset_kind_value,
            )
        except services.OtpQuotaReachedError as refusal:
            # Once the quota is raised, the operator sends this form (or reloads) again.
            _give_back_issue_token(request, token)
            form.add_error(None, refusal.message)
        else:
            return render(request, "otps/issued.html", _issued_context(issued))
    return render(request, "otps/issue.html", {"form": form, **_quota_context(operator)})


def _issued_context(issued: services.IssuedOtp) -> dict[str, object]:
    code = issued.code
    return {
        "otp": issued.otp,
        "code": code,
        "groups": group_for_reading(code),
        "spelling": spell(code, get_language() or "en"),
        # A regular QR code (not Micro QR, which phone scanners often ignore), the code alone.
        "qr_data_uri": segno.make_qr(code, error="m").svg_data_uri(scale=6, border=2),
        "expires_at": issued.expires_at,
        # Whole seconds: every browser parses this form of ISO 8601.
        "expires_at_iso": issued.expires_at.replace(microsecond=0).isoformat(),
        "ttl_hours": settings.OTP_ISSUED_TTL_HOURS,
    }


@never_cache
@permissions.allowed_if(permissions.can_issue_codes)
def authorize_view(request: HttpRequest) -> HttpResponse:
    operator: User = request.user  # type: ignore[assignment]
    form = AuthorizeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            otp = services.authorize_otp(
                operator=operator,
                code=form.cleaned_data["code"],
                onset_date=form.cleaned_data["onset_date"],
                onset_kind=form.onset_kind_value,
            )
        except services.OtpAlreadyAuthorizedError:
            form.add_error(
                "code",
                _(
                    "This code has already been authorized. If the app still asks for one,"
                    " ask the patient to start again in the app to get a new code."
                ),
            )
        except services.OtpQuotaReachedError as refusal:
            form.add_error(None, refusal.message)
        else:
            expiry = formats.time_format(timezone.localtime(otp.expires_at), "TIME_FORMAT")
            messages.success(
                request,
                _(
                    "Code %(reference)s authorized: until %(time)s, the patient can share their"
                    " keys from the app."
                )
                % {"reference": otp.reference, "time": expiry},
            )
            return redirect("otps:list")
    context = {"form": form, "ttl_minutes": settings.OTP_AUTHORIZED_TTL_MINUTES}
    return render(request, "otps/authorize.html", {**context, **_quota_context(operator)})


@permissions.allowed_if(permissions.can_view_codes)
def codes_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    codes = codes_visible_to(user).select_related("region", "issued_by", "api_key")
    state = request.GET.get("state", "")
    now = timezone.now()
    if state == OtpState.PENDING:
        codes = codes.filter(state=OtpState.PENDING, expires_at__gt=now)
    elif state == OtpState.EXPIRED:
        codes = codes.filter(state=OtpState.EXPIRED) | codes.filter(
            state=OtpState.PENDING, expires_at__lte=now
        )
    elif state in OtpState.values:
        codes = codes.filter(state=state)
    else:
        state = ""
    page = Paginator(codes, settings.OTP_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "state": state,
        "states": OtpState.choices,
        "query_string": f"state={state}" if state else "",
        "show_issuer": not permissions.is_regional_staff(user) or user.is_supervisor,
        "show_region": permissions.is_administrator(user),
        "can_issue": permissions.can_issue_codes(user),
        "grace_hours": settings.OTP_RECORD_GRACE_HOURS,
        "surges": selectors.issuance_surges()
        if permissions.can_view_issuance_warnings(user)
        else [],
        "surge_factor": settings.OTP_SURGE_FACTOR,
    }
    return render(request, "otps/list.html", context)


@require_POST
@permissions.allowed_if(permissions.can_view_codes)
def revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    otp = get_object_or_404(codes_visible_to(request.user), pk=pk)
    if services.revoke_otp(actor=request.user, otp=otp):  # type: ignore[arg-type]
        messages.success(request, _("Code %(reference)s revoked.") % {"reference": otp.reference})
    else:
        messages.info(
            request,
            _("Code %(reference)s was no longer waiting: nothing to revoke.")
            % {"reference": otp.reference},
        )
    return redirect("otps:list")


@never_cache
@permissions.allowed_if(permissions.can_manage_api_keys)
def api_keys_view(request: HttpRequest) -> HttpResponse:
    actor: User = request.user  # type: ignore[assignment]
    form = ApiKeyForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        created = services.create_api_key(
            actor=actor, region=form.cleaned_data["region"], name=form.cleaned_data["name"]
        )
        # Shown in this response only; afterwards just its first characters remain visible.
        return render(request, "otps/api_key_created.html", {"created": created})
    keys = api_keys_visible_to(actor).select_related("region", "created_by")
    return render(
        request,
        "otps/api_keys.html",
        {"form": form, "keys": keys, "show_region": permissions.is_administrator(actor)},
    )


@require_POST
@permissions.allowed_if(permissions.can_manage_api_keys)
def revoke_api_key_view(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = get_object_or_404(api_keys_visible_to(request.user), pk=pk)
    if services.revoke_api_key(actor=request.user, api_key=api_key):  # type: ignore[arg-type]
        messages.success(request, _("The key “%(name)s” no longer works.") % {"name": api_key.name})
    return redirect("otps:api_keys")
