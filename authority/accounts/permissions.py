"""Every role rule of the site, in one place, so one test matrix covers them all.

Which records of an app above accounts someone sees (patient codes, API keys) is decided in
that app's permissions module with these rules: accounts imports no app above it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from authority.accounts.models import Region, Role, User
from authority.audit.models import AuditEntry

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

# Whom a rule is asked about: `request.user` as Django gives it (a signed-out visitor is an
# AnonymousUser), or a person loaded from the database. A rule that holds proves a User.
Visitor: TypeAlias = User | AnonymousUser


def _is_staff_member(user: Visitor) -> TypeGuard[User]:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_regional_staff(user: Visitor) -> TypeGuard[User]:
    """Operators and supervisors: people who deal with patients of their region."""
    return (
        _is_staff_member(user)
        and user.role in (Role.OPERATOR, Role.SUPERVISOR)
        and user.region_id is not None
    )


def is_administrator(user: Visitor) -> TypeGuard[User]:
    return _is_staff_member(user) and user.role == Role.ADMINISTRATOR


def can_manage_people(user: Visitor) -> TypeGuard[User]:
    return _is_staff_member(user) and user.role in (Role.SUPERVISOR, Role.ADMINISTRATOR)


def users_visible_to(user: Visitor) -> QuerySet[User]:
    """Supervisors see their region's staff; administrators see everyone."""
    if is_administrator(user):
        return User.objects.all()
    if can_manage_people(user) and user.region_id is not None:
        return User.objects.filter(region_id=user.region_id)
    return User.objects.none()


def users_manageable_by(user: Visitor) -> QuerySet[User]:
    """Whom this user may deactivate, reset or invite again: never themselves."""
    if is_administrator(user):
        return User.objects.exclude(pk=user.pk)
    if can_manage_people(user) and user.region_id is not None:
        return User.objects.filter(region_id=user.region_id, role=Role.OPERATOR).exclude(pk=user.pk)
    return User.objects.none()


def can_manage_user(actor: Visitor, target: User) -> bool:
    return users_manageable_by(actor).filter(pk=target.pk).exists()


def assignable_roles(user: Visitor) -> list[Role]:
    if is_administrator(user):
        return [Role.OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR]
    if can_manage_people(user):
        return [Role.OPERATOR]
    return []


def assignable_regions(user: Visitor) -> QuerySet[Region]:
    if is_administrator(user):
        return Region.objects.filter(is_active=True)
    if can_manage_people(user) and user.region_id is not None:
        return Region.objects.filter(pk=user.region_id)
    return Region.objects.none()


def can_view_region(user: Visitor, region: Region | None) -> bool:
    """Regional statistics and audit: a supervisor's own region; any region for administrators.

    `region=None` means national figures, for administrators only.
    """
    if is_administrator(user):
        return True
    return can_manage_people(user) and region is not None and region.pk == user.region_id


def can_view_audit(user: Visitor) -> bool:
    return can_manage_people(user)


def audit_visible_to(user: Visitor) -> QuerySet[AuditEntry]:
    if is_administrator(user):
        return AuditEntry.objects.all()
    if can_manage_people(user) and user.region_id is not None:
        return AuditEntry.objects.filter(region_id=user.region_id)
    return AuditEntry.objects.none()


def can_use_admin_site(user: Visitor) -> bool:
    """The Django admin: administrators who passed the second factor."""
    return is_administrator(user) and bool(getattr(user, "is_verified", lambda: False)())


def can_publish(user: Visitor) -> bool:
    """Publishing key batches and checking them: national administrators."""
    return is_administrator(user)


def can_manage_signing_keys(user: Visitor) -> bool:
    """Seeing and rotating the keys that sign batch files: national administrators."""
    return is_administrator(user)


def can_manage_app_settings(user: Visitor) -> bool:
    """The apps' settings (what every phone's risk scoring and traffic do): national
    administrators only."""
    return is_administrator(user)


def allowed_if(
    check: Callable[[Visitor], bool],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: 403 unless `check(request.user)` holds (login itself is the middleware's job)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# --- Patient codes and the HIS API keys ------------------------------------------------------


def can_issue_codes(user: Visitor) -> bool:
    """Issue or authorize patient codes: regional staff, for their own region while it is
    active (an administrator can switch a region off)."""
    return is_regional_staff(user) and user.region is not None and user.region.is_active


def can_view_codes(user: Visitor) -> bool:
    return is_regional_staff(user) or is_administrator(user)


def can_view_issuance_warnings(user: Visitor) -> bool:
    """Unusual numbers of codes per region: a national view."""
    return is_administrator(user)


def can_manage_api_keys(user: Visitor) -> TypeGuard[User]:
    """API keys of health information systems: supervisors (own region), administrators."""
    return can_manage_people(user)


def api_key_regions(user: Visitor) -> QuerySet[Region]:
    """Regions for which this user may create API keys."""
    if is_administrator(user):
        return Region.objects.filter(is_active=True)
    if can_manage_api_keys(user) and user.region_id is not None:
        return Region.objects.filter(pk=user.region_id)
    return Region.objects.none()


# --- Statistics ----------------------------------------------------------------------------------


def can_view_statistics(user: Visitor) -> TypeGuard[User]:
    """The statistics dashboard: supervisors (their region) and administrators (any, national)."""
    return can_manage_people(user) and (is_administrator(user) or user.region_id is not None)


def statistics_regions(user: Visitor) -> QuerySet[Region]:
    """Regions whose statistics this user may choose: their own, or every one."""
    if is_administrator(user):
        return Region.objects.all()
    if can_view_statistics(user) and user.region_id is not None:
        return Region.objects.filter(pk=user.region_id)
    return Region.objects.none()


def can_view_device_traffic(user: Visitor) -> bool:
    """Real against dummy requests of the device API: a national, technical view."""
    return is_administrator(user)


def can_compare_regions(user: Visitor) -> bool:
    return is_administrator(user)


def can_view_operator_statistics(user: Visitor, region: Region | None) -> bool:
    """Codes per operator and day, one region at a time."""
    return region is not None and can_view_statistics(user) and can_view_region(user, region)
