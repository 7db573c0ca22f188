"""Which patient codes and HIS API keys someone sees and may stop: the role rules of
accounts.permissions applied to this app's records."""

from __future__ import annotations

from django.db.models import QuerySet

from authority.accounts.models import Role
from authority.accounts.permissions import (
    Visitor,
    can_manage_api_keys,
    is_administrator,
    is_regional_staff,
)
from authority.otps.models import ApiKey, Otp


def codes_visible_to(user: Visitor) -> QuerySet[Otp]:
    """Operators see the codes they gave; supervisors their region's; administrators all."""
    if is_administrator(user):
        return Otp.objects.all()
    if is_regional_staff(user) and user.role == Role.SUPERVISOR and user.region_id is not None:
        return Otp.objects.filter(region_id=user.region_id)
    if is_regional_staff(user):
        return Otp.objects.filter(issued_by=user)
    return Otp.objects.none()


def can_revoke_code(user: Visitor, otp: Otp) -> bool:
    """Whoever sees a code may stop it (given to the wrong person, onset date mistyped...)."""
    return codes_visible_to(user).filter(pk=otp.pk).exists()


def api_keys_visible_to(user: Visitor) -> QuerySet[ApiKey]:
    if is_administrator(user):
        return ApiKey.objects.all()
    if can_manage_api_keys(user) and user.region_id is not None:
        return ApiKey.objects.filter(region_id=user.region_id)
    return ApiKey.objects.none()
