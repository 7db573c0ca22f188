"""The settings documents GET /v1/settings serves, kept ready in each web process.

Every phone asks at start and periodically, so the endpoint must cost no database query:
each process keeps, per platform, the version in force and any scheduled ones, already cut
into build ranges and encoded as the bytes to send (with their ETag). A publication, rollback
or cancellation bumps one generation number in the same transaction; each process compares
its copy's generation with the database's at most every APP_SETTINGS_RECHECK_SECONDS (one
tiny query per process, whatever the traffic) and rebuilds when it moved. The process that
published rebuilds at once. A scheduled version needs no query when its time comes: the
copy holds it already, and the request's clock picks it.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from authority.appconfig import builds, selectors
from authority.appconfig.catalogue import MAX_BUILD, PLATFORMS

# The clock of the recheck interval (a test may replace it).
monotonic = time.monotonic


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str
    max_age: int
    version: int


@dataclass(frozen=True)
class _Release:
    number: int
    activates_at: datetime
    firsts: tuple[int, ...]  # first build of each segment, for bisect
    bodies: tuple[tuple[bytes, str], ...]  # (body, etag) of each segment

    def answer_for(self, build: int) -> tuple[bytes, str]:
        return self.bodies[bisect.bisect_right(self.firsts, build) - 1]


@dataclass(frozen=True)
class _Snapshot:
    generation: int
    releases: dict[str, tuple[_Release, ...]] = field(default_factory=dict)


def encode(document: dict[str, object]) -> bytes:
    """Compact JSON, UTF-8, keys in a stable order (the same bytes from every process, so
    the ETag is the same too)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _release(  # type: ignore[no-untyped-def]
    platform: str, version_number: int, activates_at: datetime, document, overrides
) -> _Release:
    segments = builds.segments(document, overrides, last_build=MAX_BUILD[platform])
    bodies = []
    for segment in segments:
        body = encode(segment.document)
        bodies.append((body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'))
    return _Release(
        version_number, activates_at, tuple(s.first_build for s in segments), tuple(bodies)
    )


class SettingsCache:
    """The per-process copy (one instance per process, `cache` below)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._checked_at = float("-inf")

    def forget(self) -> None:
        """Drop the copy: the next request rebuilds it (after this process published)."""
        with self._lock:
            self._snapshot = None
            self._checked_at = float("-inf")

    def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and (
            monotonic() - self._checked_at < settings.APP_SETTINGS_RECHECK_SECONDS
        ):
            return snapshot
        with self._lock:
            # Another thread may have refreshed it while this one waited for the lock.
            if self._snapshot is not None and (
                monotonic() - self._checked_at < settings.APP_SETTINGS_RECHECK_SECONDS
            ):
                return self._snapshot
            generation = selectors.generation()
            if self._snapshot is None or self._snapshot.generation != generation:
                self._snapshot = self._build(generation)
            self._checked_at = monotonic()
            return self._snapshot

    @staticmethod
    def _build(generation: int) -> _Snapshot:
        now = timezone.now()
        releases = {
            platform: tuple(
                _release(platform, v.number, v.activates_at, v.document, v.overrides)
                for v in selectors.releases(platform, at=now)
            )
            for platform in PLATFORMS
        }
        return _Snapshot(generation, releases)

    def answer(self, platform: str, build: int, *, now: datetime | None = None) -> Answer | None:
        """What to send a `platform` app of build `build` now; None when nothing is published."""
        releases = self._current().releases.get(platform, ())
        now = now or timezone.now()
        in_force = None
        following = None
        for release in releases:
            if release.activates_at <= now:
                in_force = release
            else:
                following = release
                break
        if in_force is None:
            return None
        body, etag = in_force.answer_for(build)
        max_age = settings.APP_SETTINGS_MAX_AGE
        if following is not None:
            # Phones and the CDN must not keep this document past the next version's start.
            max_age = min(max_age, max(0, int((following.activates_at - now).total_seconds())))
        return Answer(body, etag, max_age, in_force.number)


cache = SettingsCache()
