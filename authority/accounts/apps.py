from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "authority.accounts"
    verbose_name = _("Authorities and people")

    def ready(self) -> None:
        from authority.accounts import (  # noqa: F401  (connect their signal receivers)
            provinces,
            signals,
        )
