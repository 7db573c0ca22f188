"""Navigation adapted to the role, and the session settings the expiry warning needs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from authority.accounts import permissions

# (url name, label, who sees it); features add their entries here.
NAVIGATION: list[tuple[str, Any, Any]] = [
    ("home", _("Home"), lambda user: True),
    ("otps:issue", _("Issue a code"), permissions.can_issue_codes),
    ("otps:authorize", _("Authorize a code"), permissions.can_issue_codes),
    ("otps:list", _("Codes"), permissions.can_view_codes),
    ("otps:api_keys", _("API keys"), permissions.can_manage_api_keys),
    ("accounts:people", _("People"), permissions.can_manage_people),
    ("audit:list", _("Audit trail"), permissions.can_view_audit),
    ("dashboard:overview", _("Statistics"), permissions.can_view_statistics),
    ("keys:publication", _("Publishing"), permissions.can_publish),
    ("federation:overview", _("Federation"), permissions.is_administrator),
    ("appconfig:overview", _("App settings"), permissions.can_manage_app_settings),
    ("admin:index", _("Administration"), permissions.is_administrator),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_verified():
        return {"navigation": [], "session_idle_seconds": 0}
    path = request.path
    links = [(reverse(name), label) for name, label, visible in NAVIGATION if visible(user)]
    # The longest matching link is the current one: /codes/issue/ is not also /codes/.
    current = max((url for url, _label in links if path.startswith(url)), key=len, default="")
    items = [
        {"url": url, "label": label, "active": url == current and (url != "/" or path == "/")}
        for url, label in links
    ]
    return {
        "navigation": items,
        "session_idle_seconds": settings.SESSION_COOKIE_AGE,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
