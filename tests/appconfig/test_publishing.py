"""Publishing, scheduling, cancelling and rolling back the apps' settings: what phones are then
served, what the audit trail records, and how two administrators at once are kept from
overwriting each other."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authority.appconfig import selectors, services, serving
from authority.appconfig.models import SettingsDraft, SettingsVersion
from authority.audit.models import Action, AuditEntry
from authority.audit.verification import verify_trail
from tests.appconfig import app_models
from tests.appconfig.conftest import get_settings, served

pytestmark = pytest.mark.django_db


def packet(size):
    def change(document):
        document["teks_packet_size"] = size

    return change


def test_a_published_version_is_served_at_once(client, initial_versions, publish):
    assert served(client, "android")["teks_packet_size"] == 110_000
    version = publish("android", packet(120_000), note="larger padding")
    assert version.number == 2
    document = served(client, "android")
    assert document["teks_packet_size"] == 120_000
    assert app_models.problems("android", document) == []
    assert served(client, "ios")["teks_packet_size"] == 110_000  # the other platform keeps its own


def test_other_processes_serve_it_after_their_recheck_interval(
    client, initial_versions, publish, monkeypatch, settings
):
    """Another web process: its own copy, refreshed when it sees the generation move."""
    settings.APP_SETTINGS_RECHECK_SECONDS = 2
    clock = [1000.0]
    monkeypatch.setattr(serving, "monotonic", lambda: clock[0])
    other = serving.SettingsCache()
    assert b'"teks_packet_size":110000' in other.answer("android", 1).body
    publish("android", packet(130_000))
    assert b'"teks_packet_size":110000' in other.answer("android", 1).body  # within its interval
    clock[0] += 2.5
    assert b'"teks_packet_size":130000' in other.answer("android", 1).body


def test_publication_is_audited_with_its_diff(initial_versions, publish, administrator):
    publish("android", packet(120_000), note="larger padding")
    entry = AuditEntry.objects.get(action=Action.APP_SETTINGS_PUBLISHED)
    assert entry.actor == administrator
    assert entry.target == "android v2"
    assert entry.details["version"] == 2
    assert entry.details["replaces"] == 1
    assert entry.details["note"] == "larger padding"
    assert entry.details["scheduled"] is False
    assert entry.details["changes"] == [
        {"key": "teks_packet_size", "detail": "", "before": "110000", "after": "120000"}
    ]
    assert verify_trail().intact


def test_the_draft_is_gone_once_published(initial_versions, publish):
    publish("ios", packet(120_000))
    assert not SettingsDraft.objects.exists()


def test_a_scheduled_version_comes_into_force_at_its_time_without_a_query(
    client, initial_versions, publish, monkeypatch
):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        version = publish("android", packet(140_000), activates_at=start + timedelta(hours=2))
        assert version.is_scheduled(timezone.now())
        response = get_settings(client, "android", 1)
        assert b'"teks_packet_size":110000' in response.content
        assert response["Cache-Control"] == "public, max-age=3600"
        monkeypatch.setattr(serving, "monotonic", lambda: 1000.0)  # no recheck from here on
        clock.shift(timedelta(hours=1, minutes=30))
        with CaptureQueriesContext(connection) as queries:
            # Nobody may keep the old document past the new one's start.
            assert get_settings(client, "android", 1)["Cache-Control"] == "public, max-age=1800"
            clock.shift(timedelta(minutes=31))
            response = get_settings(client, "android", 1)
        assert b'"teks_packet_size":140000' in response.content
        assert response["Cache-Control"] == "public, max-age=3600"
        assert len(queries) == 0
    assert selectors.version_in_force("android", at=start + timedelta(hours=3)).number == 2


def test_the_history_says_which_version_is_in_force_and_which_waits(initial_versions, publish):
    now = timezone.now()
    publish("ios", packet(120_000))
    publish("ios", packet(130_000), activates_at=now + timedelta(days=1))
    statuses = {e.version.number: e.status for e in selectors.history("ios")}
    assert statuses == {3: "scheduled", 2: "in_force", 1: "superseded"}


def test_a_cancelled_version_never_comes_into_force(
    client, initial_versions, publish, administrator, django_capture_on_commit_callbacks
):
    start = timezone.now()
    publish("android", packet(145_000), activates_at=start + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_scheduled(platform="android", actor=administrator, number=2)
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert served(client, "android")["teks_packet_size"] == 110_000
        assert {e.version.number: e.status for e in selectors.history("android")}[2] == "cancelled"
    entry = AuditEntry.objects.get(action=Action.APP_SETTINGS_CANCELLED)
    assert entry.details["version"] == 2
    with pytest.raises(services.BadSchedule):
        services.cancel_scheduled(platform="android", actor=administrator, number=1)


def test_a_schedule_in_the_past_or_too_far_is_refused(initial_versions, publish):
    with pytest.raises(services.BadSchedule, match="has passed"):
        publish("android", packet(120_000), activates_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(services.BadSchedule, match="year"):
        publish("android", packet(120_000), activates_at=timezone.now() + timedelta(days=400))


def test_a_rollback_restores_an_earlier_version_as_a_new_one(
    client, initial_versions, publish, administrator, django_capture_on_commit_callbacks
):
    publish("android", packet(120_000))
    publish("android", packet(130_000))
    with django_capture_on_commit_callbacks(execute=True):
        version = services.roll_back(
            platform="android", actor=administrator, number=1, in_force_number=3
        )
    assert (version.number, version.restores) == (4, 1)
    assert version.document == initial_versions["android"].document
    assert served(client, "android")["teks_packet_size"] == 110_000
    entry = AuditEntry.objects.get(action=Action.APP_SETTINGS_ROLLED_BACK)
    assert entry.details["restores"] == 1
    assert entry.details["replaces"] == 3
    assert entry.details["changes"][0]["before"] == "130000"
    # Every version is kept as it was published.
    assert SettingsVersion.objects.filter(platform="android").count() == 4


def test_rolling_back_to_what_is_in_force_publishes_nothing(initial_versions, administrator):
    with pytest.raises(services.NothingToPublish):
        services.roll_back(platform="ios", actor=administrator, number=1, in_force_number=1)


def test_a_rollback_reviewed_against_another_version_is_refused(
    initial_versions, publish, administrator
):
    publish("ios", packet(120_000))
    with pytest.raises(services.StaleReview):
        services.roll_back(platform="ios", actor=administrator, number=1, in_force_number=1)


def test_two_administrators_saving_from_the_same_revision(
    initial_versions, administrator, make_user
):
    from authority.accounts.models import Role

    colleague = make_user("admin2", Role.ADMINISTRATOR, None)
    content, revision = services.draft_content("android")
    assert revision == 0
    mine = services.Content({**content.document, "teks_packet_size": 120_000})
    theirs = services.Content({**content.document, "teks_packet_size": 130_000})
    saved = services.save_draft(platform="android", actor=colleague, content=theirs, revision=0)
    with pytest.raises(services.DraftConflict) as conflict:
        services.save_draft(platform="android", actor=administrator, content=mine, revision=0)
    assert conflict.value.current.pk == saved.pk
    assert conflict.value.current.document["teks_packet_size"] == 130_000  # theirs kept
    # Saving again from the revision now saved is a deliberate choice: allowed.
    again = services.save_draft(
        platform="android", actor=administrator, content=mine, revision=saved.revision
    )
    assert again.revision == saved.revision + 1
    with pytest.raises(services.DraftConflict):
        services.save_draft(
            platform="android", actor=colleague, content=theirs, revision=saved.revision
        )


def test_publishing_a_draft_that_changed_since_the_review_is_refused(
    initial_versions, administrator
):
    content, _ = services.draft_content("android")
    first = services.save_draft(
        platform="android",
        actor=administrator,
        content=services.Content({**content.document, "teks_packet_size": 120_000}),
        revision=0,
    )
    services.save_draft(
        platform="android",
        actor=administrator,
        content=services.Content({**content.document, "teks_packet_size": 130_000}),
        revision=first.revision,
    )
    with pytest.raises(services.DraftConflict):
        services.publish_draft(
            platform="android", actor=administrator, revision=first.revision, in_force_number=1
        )
    with pytest.raises(services.StaleReview):
        services.publish_draft(
            platform="android", actor=administrator, revision=first.revision + 1, in_force_number=7
        )
    assert SettingsVersion.objects.filter(platform="android").count() == 1


def test_a_draft_that_changes_nothing_is_not_published(initial_versions, administrator):
    content, _ = services.draft_content("ios")
    draft = services.save_draft(platform="ios", actor=administrator, content=content, revision=0)
    with pytest.raises(services.NothingToPublish):
        services.publish_draft(
            platform="ios", actor=administrator, revision=draft.revision, in_force_number=1
        )


def test_an_invalid_draft_is_never_saved_nor_published(initial_versions, administrator):
    content, _ = services.draft_content("ios")
    broken = services.Content({**content.document, "teks_max_summary_count": 100})
    with pytest.raises(services.InvalidSettings) as refused:
        services.save_draft(platform="ios", actor=administrator, content=broken, revision=0)
    assert refused.value.problems[0].key == "teks_max_summary_count"
    assert not SettingsDraft.objects.exists()
    # A draft made invalid by what changed around it (a newer minimum build in force) is
    # checked again at publication.
    draft = SettingsDraft.objects.create(
        platform="ios",
        document=broken.document,
        revision=1,
        updated_by=administrator,
        updated_at=timezone.now(),
    )
    with pytest.raises(services.InvalidSettings):
        services.publish_draft(
            platform="ios", actor=administrator, revision=draft.revision, in_force_number=1
        )


@pytest.mark.parametrize("build", [1, 99, 100, 250, 20000])
def test_build_overrides_are_served_to_their_builds(client, initial_versions, publish, build):
    overrides = [
        {"from_build": 100, "to_build": None, "values": {"teks_packet_size": 120_000}},
        {"from_build": 200, "to_build": 300, "values": {"teks_packet_size": 130_000}},
    ]
    publish("ios", lambda document: None, overrides=overrides)
    document = served(client, "ios", build)
    expected = {1: 110_000, 99: 110_000, 100: 120_000, 250: 130_000, 20000: 120_000}[build]
    assert document["teks_packet_size"] == expected
    assert app_models.problems("ios", document) == []


def test_android_overrides_name_version_codes(client, initial_versions, publish):
    """An Android build is the app's versionCode: an override "from 2.6.0" starts at
    2,600,000, and reaches up to Google Play's largest version code."""
    publish(
        "android",
        lambda document: None,
        overrides=[
            {"from_build": 2_600_000, "to_build": None, "values": {"teks_packet_size": 120_000}}
        ],
    )
    assert served(client, "android", 2_599_999)["teks_packet_size"] == 110_000
    assert served(client, "android", 2_600_123)["teks_packet_size"] == 120_000
    assert served(client, "android", 2_100_000_000)["teks_packet_size"] == 120_000


def test_an_override_can_keep_old_builds_on_older_values(client, initial_versions, publish):
    """ "Builds up to N": the new minimum risk score only for the builds that understand it."""
    publish(
        "android",
        lambda document: document.update(exposure_info_minimum_risk_score=25),
        overrides=[
            {
                "from_build": None,
                "to_build": 150,
                "values": {"exposure_info_minimum_risk_score": 20},
            }
        ],
    )
    assert served(client, "android", 150)["exposure_info_minimum_risk_score"] == 20
    assert served(client, "android", 151)["exposure_info_minimum_risk_score"] == 25


def test_the_minimum_build_can_be_raised_once_the_newest_build_is_given(
    client, initial_versions, publish
):
    publish("android", lambda d: d.update(minimum_build_version=140), newest_build=150)
    assert served(client, "android")["minimum_build_version"] == 140
