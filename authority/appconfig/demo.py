"""Demo history of the apps' settings for the embedded run: Immuni's defaults in force for a
year, then one change (fewer operational-info reports from Android phones without an
exposure), so the history, the diff and the rollback have something to show."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from authority.accounts.models import Role, User
from authority.appconfig.models import SettingsGeneration, SettingsVersion
from authority.appconfig.serving import cache

DEMO_NOTE = "Fewer reports from phones without an exposure: the sample is large enough."


def seed_demo_settings_history(*, days_ago: int = 20) -> bool:
    """Add the demo change (once); False when there is history already."""
    if SettingsVersion.objects.filter(number__gt=1).exists():
        return False
    now = timezone.now()
    start = now - timedelta(days=365)
    changed = now - timedelta(days=days_ago)
    first = SettingsVersion.objects.filter(platform="android", number=1).first()
    if first is None:
        return False
    administrator = User.objects.filter(role=Role.ADMINISTRATOR, is_active=True).first()
    with transaction.atomic():
        SettingsVersion.objects.filter(number=1).update(published_at=start, activates_at=start)
        document = dict(first.document)
        document["operational_info_without_exposure_sampling_rate"] = 0.5
        SettingsVersion.objects.create(
            platform="android",
            number=2,
            document=document,
            overrides=first.overrides,
            newest_build=first.newest_build,
            note=DEMO_NOTE,
            published_by=administrator,
            published_at=changed,
            activates_at=changed,
        )
        generation, _ = SettingsGeneration.objects.get_or_create(pk=1)
        generation.value += 1
        generation.save(update_fields=["value"])
        transaction.on_commit(cache.forget)
    return True
