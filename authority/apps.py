"""The project's own application configurations (Django's documented place for a custom admin)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class AuthorityAdminConfig(AdminConfig):
    # A dotted path: the site module imports models, and this module loads before any can.
    default_site = "authority.admin_site.AuthorityAdminSite"

    def ready(self) -> None:
        super().ready()
        # django-axes names its app nothing translatable: the admin's index, sidebar and
        # breadcrumbs would say "Axes" to people who read Italian.
        apps.get_app_config("axes").verbose_name = _("Login lockout")
