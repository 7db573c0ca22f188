"""Managing people: the list, inviting someone, a person's page, and one view per action on a
person (deactivate, reactivate, reset the second factor, lift a lockout, renew an invitation)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import user_has_device

from authority.accounts import permissions
from authority.accounts.access import staff_member
from authority.accounts.forms import InviteForm
from authority.accounts.models import Role, User
from authority.accounts.services import invitations, people, sign_in


@permissions.allowed_if(permissions.can_manage_people)
def people_view(request: HttpRequest) -> HttpResponse:
    found = (
        permissions.users_visible_to(request.user)
        .select_related("region")
        .order_by("region__name", "username")
    )
    query = request.GET.get("q", "").strip()
    if query:
        found = found.filter(username__icontains=query) | found.filter(last_name__icontains=query)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
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
        invitation = invitations.invite_user(
            actor=actor,
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            role=Role(data["role"]),
            region=data["region"] if permissions.is_administrator(actor) else actor.region,
        )
        return _invitation_page(request, invitation)
    return render(request, "accounts/invite.html", {"form": form})


@permissions.allowed_if(permissions.can_manage_people)
def person_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(
        permissions.users_visible_to(request.user).select_related("region"), pk=pk
    )
    return _person_page(request, person)


# --- Actions on a person: POST only, on someone this user may manage (never themselves) ----------


def _manageable_person(request: HttpRequest, pk: int) -> User:
    return get_object_or_404(permissions.users_manageable_by(request.user), pk=pk)


@require_POST
@permissions.allowed_if(permissions.can_manage_people)
def deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = _manageable_person(request, pk)
    people.set_active(actor=staff_member(request), user=person, active=False)
    messages.success(
        request,
        _("%(name)s is now %(state)s.") % {"name": person.username, "state": _("deactivated")},
    )
    return redirect("accounts:person", pk=person.pk)


@require_POST
@permissions.allowed_if(permissions.can_manage_people)
def reactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = _manageable_person(request, pk)
    people.set_active(actor=staff_member(request), user=person, active=True)
    messages.success(
        request, _("%(name)s is now %(state)s.") % {"name": person.username, "state": _("active")}
    )
    return redirect("accounts:person", pk=person.pk)


@require_POST
@permissions.allowed_if(permissions.can_manage_people)
def reset_second_factor_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = _manageable_person(request, pk)
    people.reset_second_factor(actor=staff_member(request), user=person)
    messages.success(
        request,
        _("%(name)s will set up a new authenticator at their next login.")
        % {"name": person.username},
    )
    return redirect("accounts:person", pk=person.pk)


@require_POST
@permissions.allowed_if(permissions.can_manage_people)
def lift_lockout_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = _manageable_person(request, pk)
    people.lift_lockout(actor=staff_member(request), user=person)
    messages.success(request, _("%(name)s can try to log in again.") % {"name": person.username})
    return redirect("accounts:person", pk=person.pk)


@never_cache  # shows the invitation link
@require_POST
@permissions.allowed_if(permissions.can_manage_people)
def renew_invitation_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = _manageable_person(request, pk)
    try:
        invitation = invitations.renew_invitation(actor=staff_member(request), user=person)
    except invitations.PasswordAlreadySet:
        messages.error(
            request,
            _(
                "%(name)s has already chosen a password. An invitation link would let "
                "whoever holds it replace that password, so none was made."
            )
            % {"name": person.username},
        )
        return _person_page(request, person, status=409)
    return _invitation_page(request, invitation)


def _invitation_page(request: HttpRequest, invitation: invitations.Invitation) -> HttpResponse:
    return render(
        request,
        "accounts/invitation.html",
        {"invitation": invitation, "link": request.build_absolute_uri(invitation.path)},
    )


def _person_page(request: HttpRequest, person: User, *, status: int = 200) -> HttpResponse:
    context = {
        "person": person,
        "can_manage": permissions.can_manage_user(request.user, person),
        "has_second_factor": user_has_device(person, confirmed=True),
        "has_password": person.has_usable_password(),
        "backup_codes_left": sign_in.remaining_backup_codes(person),
        "recent_events": permissions.audit_visible_to(request.user).filter(target=person.username)[
            :10
        ],
    }
    return render(request, "accounts/person.html", context, status=status)
