"""Managing people: the list, inviting someone, a person's page, and one view per action on a
person (deactivate, reactivate, reset the second factor, lift a lockout, renew an invitation)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from authority.accounts import permissions, selectors
from authority.accounts.access import staff_member
from authority.accounts.forms import InviteForm
from authority.accounts.models import Role, User
from authority.accounts.services import invitations, people, sign_in
from tasks.mail import send_invitation


@permissions.allowed_if(permissions.can_manage_people)
def people_view(request: HttpRequest) -> HttpResponse:
    found = selectors.with_second_factor(
        permissions.users_visible_to(request.user)
        .select_related("region")
        .order_by("region__name", "username")
    )
    query = request.GET.get("q", "").strip()
    if query:
        found = found.filter(Q(username__icontains=query) | Q(last_name__icontains=query))
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    standings = selectors.standings(list(page))
    return render(
        request,
        "accounts/people.html",
        {
            "page": page,
            "rows": [(person, standings[person.pk]) for person in page],
            "query": query,
            "query_string": urlencode({"q": query}) if query else "",
            "time_zone": settings.TIME_ZONE,
        },
    )


@never_cache  # shows the invitation link
@permissions.allowed_if(permissions.can_manage_people)
def invite_view(request: HttpRequest) -> HttpResponse:
    actor = staff_member(request)
    form = InviteForm(request.POST or None, actor=actor, language=get_language())
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
            language=data["language"],
            send=send_invitation.delay,
        )
        return _invitation_page(request, invitation)
    return render(request, "accounts/invite.html", {"form": form})


@permissions.allowed_if(permissions.can_manage_people)
def person_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _person_page(request, _visible_person(request, pk))


# --- Actions on a person: POST only, on someone this user may manage (never themselves) ----------


def _visible_person(request: HttpRequest, pk: int) -> User:
    return get_object_or_404(
        selectors.with_second_factor(permissions.users_visible_to(request.user)).select_related(
            "region"
        ),
        pk=pk,
    )


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
    try:
        people.lift_lockout(actor=staff_member(request), user=person)
    except people.NotLockedOut:
        messages.info(request, _("%(name)s is not locked out.") % {"name": person.username})
    else:
        messages.success(
            request, _("%(name)s can try to log in again.") % {"name": person.username}
        )
    return redirect("accounts:person", pk=person.pk)


@never_cache  # shows the invitation link
@require_POST
@permissions.allowed_if(permissions.can_manage_people)
def renew_invitation_view(request: HttpRequest, pk: int) -> HttpResponse:
    person = _manageable_person(request, pk)
    try:
        invitation = invitations.renew_invitation(
            actor=staff_member(request), user=person, send=send_invitation.delay
        )
    except invitations.PasswordAlreadySet:
        messages.error(
            request,
            _(
                "%(name)s has already chosen a password. An invitation link would let "
                "whoever holds it replace that password, so none was made."
            )
            % {"name": person.username},
        )
        return _person_page(request, _visible_person(request, pk), status=409)
    return _invitation_page(request, invitation)


def _invitation_page(request: HttpRequest, invitation: invitations.Invitation) -> HttpResponse:
    return render(
        request,
        "accounts/invitation.html",
        {
            "invitation": invitation,
            "link": request.build_absolute_uri(invitation.path),
            "valid_days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600),
        },
    )


def _person_page(request: HttpRequest, person: User, *, status: int = 200) -> HttpResponse:
    viewer = staff_member(request)
    context = {
        "person": person,
        "standing": selectors.standings([person])[person.pk],
        "can_manage": permissions.can_manage_user(viewer, person),
        "has_second_factor": getattr(person, "has_second_factor", False),
        "backup_codes_left": sign_in.remaining_backup_codes(person),
        "recent_events": selectors.recent_person_events(viewer=viewer, person=person),
        "events_link": f"{reverse('audit:list')}?{urlencode({'person': person.username})}",
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "accounts/person.html", context, status=status)
