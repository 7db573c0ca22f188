"""Which well-formed keys of an upload are stored (DESIGN.md 7, GAEN): the rules a genuine phone's
keys can break without the phone being at fault, so the key is left out and the upload goes
ahead (authority.ingestion.serializers refuses what no phone sends)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

INTERVAL_SECONDS = 600
INTERVALS_PER_DAY = 144
MAX_KEY_AGE_DAYS = 14
# A phone's clock a few minutes ahead of ours: just after midnight UTC its new key starts in
# our next interval. One interval of slack takes any phone up to 10 minutes fast.
MAX_CLOCK_SKEW_INTERVALS = 1


def current_interval() -> int:
    return int(timezone.now().timestamp()) // INTERVAL_SECONDS


# Why a well-formed key was left out of an upload (the buckets of metrics.KEYS_LEFT_OUT).
TOO_OLD = "too-old"
IN_THE_FUTURE = "future"
# Buckets are at most 16 characters (statistics.models.DailyCounter.bucket).
INTERVAL_REPEATED = "same-interval"


@dataclass(frozen=True)
class KeySelection:
    """The keys of an upload that are stored, and how many were left out, by reason."""

    kept: list[dict[str, Any]]
    left_out: dict[str, int] = field(default_factory=dict)


def select_keys(teks: list[dict[str, Any]], *, now: int) -> KeySelection:
    """The keys to store, in the order sent; `now` is the current interval.

    Left out: a key starting before midnight (UTC) 14 days ago (DESIGN.md 7), one starting
    after the next interval (a clock more than a few minutes ahead, or not a phone), and a key
    for the same (start, period) as one before it. The last is GAEN 1.5's doing: reading the
    keys closes today's key at the current interval and starts a new one at the same midnight,
    so a phone that reads them twice within ten minutes (an upload retried at once) holds two
    keys with one (start, period). Both are genuine; publishing one keeps DESIGN.md's "no two
    keys for the same interval", refusing the upload would refuse that phone for 14 days.
    Keys with the same start and different periods are the same rotation, and all kept.
    """
    oldest = (now // INTERVALS_PER_DAY - MAX_KEY_AGE_DAYS) * INTERVALS_PER_DAY
    newest = now + MAX_CLOCK_SKEW_INTERVALS
    kept: list[dict[str, Any]] = []
    left_out: Counter[str] = Counter()
    intervals: set[tuple[int, int]] = set()
    for tek in teks:
        start, period = tek["rolling_start_number"], tek["rolling_period"]
        if start < oldest:
            left_out[TOO_OLD] += 1
        elif start > newest:
            left_out[IN_THE_FUTURE] += 1
        elif (start, period) in intervals:
            left_out[INTERVAL_REPEATED] += 1
        else:
            intervals.add((start, period))
            kept.append(tek)
    return KeySelection(kept=kept, left_out=dict(left_out))
