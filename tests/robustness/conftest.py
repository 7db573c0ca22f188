"""Robustness tests reuse the app client of the device API tests, with fresh throttles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.ingestion.conftest import app_client, authorized_otp

__all__ = ["app_client", "authorized_otp"]


@pytest.fixture(autouse=True)
def fresh_throttles() -> Iterator[None]:
    """The throttles live in the cache: each test starts with none used."""
    cache.clear()
    yield
    cache.clear()
