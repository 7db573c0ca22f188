"""Administrators at the same moment, on PostgreSQL: of several saves made from one draft
revision exactly one lands and the others are told; of several publications of one draft
exactly one happens; the version numbers never collide."""

from __future__ import annotations

import pytest

from authority.appconfig import services
from authority.appconfig.models import SettingsDraft, SettingsVersion
from authority.audit.models import Action, AuditEntry
from tests.appconfig.conftest import ensure_initial_versions
from tests.otps.test_concurrency import THREADS, at_the_same_time

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def versions(administrator):
    return ensure_initial_versions()


def test_saves_from_one_revision_land_once(versions, administrator):
    content, _ = services.draft_content("android")
    sizes = iter(range(120_000, 120_000 + THREADS))

    def save() -> object:
        document = {**content.document, "teks_packet_size": next(sizes)}
        return services.save_draft(
            platform="android",
            actor=administrator,
            content=services.Content(document),
            revision=0,
        )

    outcomes = at_the_same_time(save)
    saved = [o for o in outcomes if isinstance(o, SettingsDraft)]
    refused = [o for o in outcomes if isinstance(o, services.DraftConflict)]
    assert len(saved) == 1 and len(refused) == THREADS - 1
    assert (
        SettingsDraft.objects.get().document["teks_packet_size"]
        == saved[0].document["teks_packet_size"]
    )


def test_one_draft_is_published_once(versions, administrator):
    content, _ = services.draft_content("ios")
    draft = services.save_draft(
        platform="ios",
        actor=administrator,
        content=services.Content({**content.document, "teks_packet_size": 120_000}),
        revision=0,
    )

    def publish() -> object:
        return services.publish_draft(
            platform="ios", actor=administrator, revision=draft.revision, in_force_number=1
        )

    outcomes = at_the_same_time(publish)
    assert sum(isinstance(o, SettingsVersion) for o in outcomes) == 1
    assert all(
        isinstance(o, SettingsVersion | services.DraftConflict | services.StaleReview)
        for o in outcomes
    )
    assert list(
        SettingsVersion.objects.filter(platform="ios").values_list("number", flat=True)
    ) == [2, 1]
    assert AuditEntry.objects.filter(action=Action.APP_SETTINGS_PUBLISHED).count() == 1


def test_simultaneous_rollbacks_restore_once(versions, administrator):
    content, _ = services.draft_content("android")
    draft = services.save_draft(
        platform="android",
        actor=administrator,
        content=services.Content({**content.document, "teks_packet_size": 120_000}),
        revision=0,
    )
    services.publish_draft(
        platform="android", actor=administrator, revision=draft.revision, in_force_number=1
    )

    def roll_back() -> object:
        return services.roll_back(
            platform="android", actor=administrator, number=1, in_force_number=2
        )

    outcomes = at_the_same_time(roll_back)
    restored = [o for o in outcomes if isinstance(o, SettingsVersion)]
    assert len(restored) == 1 and restored[0].number == 3
    assert all(isinstance(o, services.StaleReview) for o in outcomes if o not in restored)
    assert SettingsVersion.objects.filter(platform="android").count() == 3
