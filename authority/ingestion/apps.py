from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class IngestionConfig(AppConfig):
    name = "authority.ingestion"
    verbose_name = _("Device API")

    def ready(self) -> None:
        from authority.ingestion.analytics.attestation import check_verifier_setting

        checks.register(check_verifier_setting)
