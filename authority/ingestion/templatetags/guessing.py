"""`{% guessing_warning %}`: the administrators' warning that someone is guessing codes."""

from __future__ import annotations

from typing import Any

from django import template

from authority.accounts import permissions
from authority.ingestion.guessing.selectors import guessing_under_way

register = template.Library()


@register.inclusion_tag("includes/guessing_warning.html", takes_context=True)
def guessing_warning(context: template.Context) -> dict[str, Any]:
    # A tag rather than view context: the pages that show it (home, statistics) need no change.
    user = context.get("user")
    if user is None or not permissions.is_administrator(user):
        return {"guessing": None}
    return {"guessing": guessing_under_way()}
