"""The federation app: in production, a configured federation must have usable certificates before start."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FederationConfig(AppConfig):
    name = "authority.federation"
    verbose_name = _("European federation")

    def ready(self) -> None:
        from django.conf import settings

        from authority.federation import configuration

        if settings.PRODUCTION and settings.FEDERATION_GATEWAY_URL:
            # Every process (web, worker, beat) refuses to start on a certificate that is
            # expired, for another country, or without its key.
            configuration.check_at_start_up()
