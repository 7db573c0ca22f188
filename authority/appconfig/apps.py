from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppConfigConfig(AppConfig):
    name = "authority.appconfig"
    label = "appconfig"
    verbose_name = _("App settings")
