"""Markers for views that do not need a fully signed-in user (the default is: they do)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

if TYPE_CHECKING:
    from django.http import HttpRequest

    from authority.accounts.models import User

View = TypeVar("View", bound=Callable[..., object])

PUBLIC = "public"
PASSWORD_ONLY = "password_only"


def public(view: View) -> View:
    """Reachable without logging in (login page, language switch, public downloads)."""
    view.access_level = PUBLIC  # type: ignore[attr-defined]
    return view


def password_only(view: View) -> View:
    """Reachable after the password step, before the second factor (enrolment, verification)."""
    view.access_level = PASSWORD_ONLY  # type: ignore[attr-defined]
    return view


def staff_member(request: HttpRequest) -> User:
    """The signed-in user of a view the middleware let through (never anonymous there)."""
    return cast("User", request.user)
