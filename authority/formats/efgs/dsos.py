"""The EFGS encoding of days since onset of symptoms, which also says how the onset is known."""

from __future__ import annotations

# EFGS puts the kind of onset in the hundreds and thousands of the value (the gateway's
# partners agreed on it; see docs/federation.md):
#   -14..14            symptomatic, onset date known: days from onset to the key's day
#   n*100 - 14..+14    symptomatic, onset somewhere in a range of n days (n = 1..19)
#   2000 - 14..+14     symptomatic, onset unknown: days from submission
#   3000 - 14..+14     asymptomatic: days from submission
#   4000 - 14..+14     symptom status unknown: days from submission
DAYS_RANGE = 14
ASYMPTOMATIC_OFFSET = 3000
UNKNOWN_STATUS_OFFSET = 4000
_OFFSETS: tuple[int, ...] = (
    0,
    *range(100, 2000, 100),
    2000,
    ASYMPTOMATIC_OFFSET,
    UNKNOWN_STATUS_OFFSET,
)


def decode(value: int) -> int | None:
    """The days relative to the reference point, in GAEN's -14..14, or None when not an EFGS value."""
    for offset in _OFFSETS:
        if -DAYS_RANGE <= value - offset <= DAYS_RANGE:
            return value - offset
    return None


def encode(days: int, *, offset: int) -> int:
    """`days` (clamped to -14..14) under one of the EFGS offsets."""
    if offset not in _OFFSETS:
        raise ValueError(f"{offset} is not an EFGS offset")
    return offset + max(-DAYS_RANGE, min(DAYS_RANGE, days))
