"""Version 1 of both platforms' settings: Immuni's published defaults, so that the endpoint
serves a document the shipped apps accept from the first start.

`defaults.py` is the record of those defaults (plain data): a later change of the settings is a
new version published from the pages, never an edit of that file.
"""

from django.db import migrations
from django.utils import timezone


def add_defaults(apps, schema_editor):
    from authority.appconfig.defaults import immuni_defaults

    SettingsVersion = apps.get_model("appconfig", "SettingsVersion")
    SettingsGeneration = apps.get_model("appconfig", "SettingsGeneration")
    now = timezone.now()
    for platform in ("android", "ios"):
        if SettingsVersion.objects.filter(platform=platform).exists():
            continue
        SettingsVersion.objects.create(
            platform=platform,
            number=1,
            document=immuni_defaults(platform),
            overrides=[],
            newest_build=None,
            note="Immuni's published defaults",
            published_at=now,
            activates_at=now,
        )
    generation, _ = SettingsGeneration.objects.get_or_create(pk=1)
    generation.value += 1
    generation.save()


def remove_defaults(apps, schema_editor):
    apps.get_model("appconfig", "SettingsVersion").objects.filter(
        number=1, published_by__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("appconfig", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
