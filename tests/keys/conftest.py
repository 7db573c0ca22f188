"""Fixtures for keys and publication: a throwaway batch storage, key factories, quick settings."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import Storage, storages
from django.utils import timezone

from authority.accounts.models import Region
from authority.keys.models import INTERVAL_SECONDS, INTERVALS_PER_DAY, ClaimedKey, SigningKey
from authority.keys.selectors import active_signing_keys
from authority.keys.services.signing_keys import rotate_signing_key
from authority.keys.services.storing import UploadedKey, store_uploaded_keys


def day_interval(days_ago: int) -> int:
    """The first interval of the UTC day `days_ago` days before today."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((today - timedelta(days=days_ago)).timestamp()) // INTERVAL_SECONDS


def uploaded_key(days_ago: int = 3, **fields: Any) -> UploadedKey:
    key = UploadedKey(
        key_data=secrets.token_bytes(16), rolling_start_interval_number=day_interval(days_ago)
    )
    return dataclasses.replace(key, **fields)


def with_a_signing_key() -> None:
    """What an administrator does before the first publication: create a signing key (v1),
    unless the test made its own. Publication never creates one (services/signing_keys.py)."""
    if not active_signing_keys().exists():
        rotate_signing_key(actor=None)


@pytest.fixture
def signing_key(db: None) -> SigningKey:
    return rotate_signing_key(actor=None)


@pytest.fixture(autouse=True)
def no_claims_left_by_a_flush(request: pytest.FixtureRequest) -> None:
    """Each test starts without claims: transactional tests end with a flush, which empties
    the tables Django manages but not the unmanaged claims table (ClaimedKey)."""
    uses_database = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db"} & set(request.fixturenames)
    )
    if uses_database:
        request.getfixturevalue("db")  # transactional_db wins when the test asked for it
        ClaimedKey.objects.all().delete()


@pytest.fixture(autouse=True)
def batch_storage_dir(settings, tmp_path: Path) -> Path:
    """Every test writes batch files into its own folder."""
    folder = tmp_path / "batches"
    settings.STORAGES = {
        **settings.STORAGES,
        "batches": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder), "allow_overwrite": True},
        },
    }
    return folder


@pytest.fixture
def batch_files(batch_storage_dir: Path) -> Callable[[], list[str]]:
    def names() -> list[str]:
        if not batch_storage_dir.exists():
            return []
        return sorted(path.name for path in batch_storage_dir.iterdir())

    return names


@pytest.fixture
def storage() -> Storage:
    return storages["batches"]


@pytest.fixture
def small_files(settings) -> None:
    """Tiny padding target so tests stay fast."""
    settings.KEYS_MIN_PER_FILE = 10


@pytest.fixture
def store_keys(lazio: Region) -> Callable[..., list[UploadedKey]]:
    """Store `count` keys of a few days ago for Lazio; return them."""

    def store(
        count: int = 3, *, days_ago: int = 3, region: Region | None = None, **fields: object
    ) -> list[UploadedKey]:
        keys = [uploaded_key(days_ago, **fields) for _ in range(count)]
        store_uploaded_keys(
            keys=keys,
            region_id=(region or lazio).pk,
            # A UTC date, like the keys' days: "the day before the key" at any hour.
            onset_date=datetime.now(UTC).date() - timedelta(days=days_ago + 1),
            uploaded_on=timezone.localdate(),
        )
        return keys

    return store


__all__ = ["INTERVALS_PER_DAY", "day_interval", "uploaded_key", "with_a_signing_key"]
