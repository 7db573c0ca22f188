"""The project's own application configurations (Django's documented place for a custom admin)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class AuthorityAdminConfig(AdminConfig):
    # A dotted path: the site module imports models, and this module loads before any can.
    default_site = "authority.admin_site.AuthorityAdminSite"
