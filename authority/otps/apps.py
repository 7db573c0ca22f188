from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OtpsConfig(AppConfig):
    name = "authority.otps"
    verbose_name = _("Patient codes")
