"""Fixtures of the app settings tests: the versions the data migration creates (again, after a
transactional test flushed them), a fresh per-process copy of the served settings, helpers to
publish."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from wsgiref.types import WSGIEnvironment

import pytest
from django.test import Client
from django.utils import timezone

from authority.appconfig import serving
from authority.appconfig.defaults import immuni_defaults
from authority.appconfig.models import SettingsGeneration, SettingsVersion


@pytest.fixture(autouse=True)
def _fresh_settings_copy() -> Iterator[None]:
    """The served copy lives in the process: a test starts and ends without another test's."""
    serving.cache.forget()
    yield
    serving.cache.forget()


def ensure_initial_versions() -> dict[str, SettingsVersion]:
    """Version 1 of each platform, Immuni's defaults, as the data migration leaves them (a
    transactional test flushes what the migration wrote)."""
    versions = {}
    for platform in ("android", "ios"):
        versions[platform] = SettingsVersion.objects.filter(
            platform=platform, number=1
        ).first() or SettingsVersion.objects.create(
            platform=platform,
            number=1,
            document=immuni_defaults(platform),
            note="Immuni's published defaults",
            published_at=timezone.now(),
            activates_at=timezone.now() - timedelta(days=30),
        )
    SettingsGeneration.objects.get_or_create(pk=1)
    return versions


@pytest.fixture
def initial_versions(db: None) -> dict[str, SettingsVersion]:
    return ensure_initial_versions()


def get_settings(client: Client, platform: str, build: int | str, **headers: str) -> Any:
    sent: WSGIEnvironment = headers
    return client.get(f"/v1/settings?platform={platform}&build={build}", **sent)


def served(client: Client, platform: str, build: int | str = 1) -> dict[str, Any]:
    response = get_settings(client, platform, build)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


@pytest.fixture
def publish(administrator, django_capture_on_commit_callbacks) -> Callable[..., SettingsVersion]:
    """Save a draft changed by `change(document)` and publish it, as the pages do."""
    from authority.appconfig import selectors, services

    def run(
        platform: str, change: Callable[[dict[str, Any]], None], **options: Any
    ) -> SettingsVersion:
        content, revision = services.draft_content(platform)
        document = json.loads(json.dumps(content.document))
        change(document)
        overrides = options.pop("overrides", content.overrides)
        newest = options.pop("newest_build", content.newest_build)
        with django_capture_on_commit_callbacks(execute=True):
            draft = services.save_draft(
                platform=platform,
                actor=administrator,
                content=services.Content(document, overrides, newest),
                revision=revision,
            )
            in_force = selectors.version_in_force(platform)
            return services.publish_draft(
                platform=platform,
                actor=administrator,
                revision=draft.revision,
                in_force_number=in_force.number if in_force else None,
                **options,
            )

    return run
