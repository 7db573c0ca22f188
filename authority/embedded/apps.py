from django.apps import AppConfig


class EmbeddedConfig(AppConfig):
    """What `python3 dev.py run` prepares: demo data and the embedded broker's folders.

    Its commands reach into every app, so it sits above them all and nothing imports it.
    """

    name = "authority.embedded"
