"""Data migration 0003: Immuni's support contacts leave the iOS settings in force of an
installed system (a fresh one starts without them), and nothing an authority published is
touched."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from authority.appconfig import serving
from authority.appconfig.models import SettingsGeneration, SettingsVersion
from tests.appconfig.conftest import served

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "authority.appconfig.migrations.0003_no_immuni_support_contacts"
)
IMMUNI = {"support_phone": "800912491", "support_email": "cittadini@immuni.italia.it"}


def test_a_fresh_installation_serves_no_support_contact(client, initial_versions):
    for platform in ("android", "ios"):
        document = served(client, platform)
        assert document["support_phone"] is None and document["support_email"] is None


def test_immunis_contacts_in_force_are_replaced_by_a_new_version(client, initial_versions):
    first = initial_versions["ios"]
    first.document = {**first.document, **IMMUNI}
    first.overrides = [{"from_build": 100, "to_build": None, "values": dict(IMMUNI)}]
    first.newest_build = 150
    first.save()
    generation = SettingsGeneration.objects.get(pk=1).value

    migration.remove_immuni_contacts(apps, None)

    latest = SettingsVersion.objects.get(platform="ios", number=2)
    assert latest.document == {**first.document, "support_phone": None, "support_email": None}
    assert latest.overrides == [
        {
            "from_build": 100,
            "to_build": None,
            "values": {"support_phone": None, "support_email": None},
        }
    ]
    assert latest.newest_build == 150 and latest.published_by is None
    assert "Immuni's support contacts removed" in latest.note
    assert SettingsGeneration.objects.get(pk=1).value == generation + 1
    serving.cache.forget()
    assert served(client, "ios", 120)["support_email"] is None
    # Once is enough: run again, nothing more.
    migration.remove_immuni_contacts(apps, None)
    assert SettingsVersion.objects.filter(platform="ios").count() == 2


def test_contacts_an_authority_published_are_left_alone(initial_versions):
    first = initial_versions["ios"]
    first.document = {**first.document, **IMMUNI}
    first.save()
    SettingsVersion.objects.create(
        platform="ios",
        number=2,
        document={**first.document, "support_phone": "+39 06 1234 5678", "support_email": None},
        published_at=timezone.now(),
        activates_at=timezone.now(),  # after version 1
    )
    migration.remove_immuni_contacts(apps, None)
    assert SettingsVersion.objects.filter(platform="ios").count() == 2
    assert not SettingsVersion.objects.filter(platform="android", number=2).exists()
