"""Immuni's support contacts out of the iOS settings in force: version 1 served Immuni's Italian
help line and address (the iOS app's own defaults), which are not this authority's. When the
iOS version in force still names them, a new version without them comes into force at once
(the apps then show no contact); anything else an authority published is left as it is.

The values are written here, not imported from defaults.py, so that this migration does the
same on every installation whatever later becomes of that file.
"""

from django.db import migrations
from django.utils import timezone

IMMUNI_CONTACTS = {"support_phone": "800912491", "support_email": "cittadini@immuni.italia.it"}
NOTE = "Immuni's support contacts removed: they are not this authority's (data migration 0003)."


def _without_immuni_contacts(values):
    cleaned = dict(values)
    for key, immuni in IMMUNI_CONTACTS.items():
        if cleaned.get(key) == immuni:
            cleaned[key] = None
    return cleaned


def remove_immuni_contacts(apps, schema_editor):
    SettingsVersion = apps.get_model("appconfig", "SettingsVersion")
    SettingsGeneration = apps.get_model("appconfig", "SettingsGeneration")
    now = timezone.now()
    in_force = (
        SettingsVersion.objects.filter(
            platform="ios", cancelled_at__isnull=True, activates_at__lte=now
        )
        .order_by("-activates_at", "-number")
        .first()
    )
    if in_force is None:
        return
    document = _without_immuni_contacts(in_force.document)
    overrides = [
        {**override, "values": _without_immuni_contacts(override.get("values", {}))}
        for override in in_force.overrides
    ]
    if document == in_force.document and overrides == in_force.overrides:
        return
    latest = SettingsVersion.objects.filter(platform="ios").order_by("-number").first()
    SettingsVersion.objects.create(
        platform="ios",
        number=latest.number + 1,
        document=document,
        overrides=overrides,
        newest_build=in_force.newest_build,
        note=NOTE,
        published_at=now,
        activates_at=now,
    )
    generation, _ = SettingsGeneration.objects.get_or_create(pk=1)
    generation.value += 1
    generation.save()


class Migration(migrations.Migration):
    dependencies = [("appconfig", "0002_immuni_defaults")]

    operations = [migrations.RunPython(remove_immuni_contacts, migrations.RunPython.noop)]
