"""How a phone scores an exposure with the exposure configuration (GAEN v1, which Immuni used).

Pure code, no Django: the risk preview of the settings pages draws what this computes, and the
tests check it against the published definition.

GAEN v1 (Apple's "Exposure Risk Value Calculation in ExposureNotification Version 1", and
Google's v1 ExposureConfiguration, which mirrors it): each exposure gets a level value from 0
to 8 for each of four parameters, read from the configuration's eight-value lists by the bucket
the measured value falls in, and its total risk score is the product of the four. Exposures
scoring below `minimum_risk_score` are left out of the summary. iOS caps the score at 255 (an
`ENRiskScore` is one byte); Android reports the full product (up to 8**4 = 4096).

Attenuation varies during an exposure: the framework weights the level values of the
attenuations it measured by how long each lasted, and averages them over the exposure. The
attenuation thresholds do not enter the score: they split the exposure's minutes into the
`attenuation_durations` the phone reports (below the first threshold, between the two, above
the second), which the apps send with their uploads.

Whether the phone warns is the apps' own rule (Immuni's `ExposureManager.kt` and
`ImmuniExposureDetectionExecutor.swift`): a matched key whose summary's maximum risk score
reaches `exposure_info_minimum_risk_score`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Platform = Literal["android", "ios"]

BUCKETS = 8
LEVEL_VALUE_MAX = 8  # ENRiskLevelValueMax: a bucket score is 0..8
IOS_RISK_SCORE_MAX = 255  # ENRiskScoreMax
FULL_RISK_SCORE_MAX = LEVEL_VALUE_MAX**4  # 4096, what Android reports at most

# Upper bounds (inclusive) of the attenuation buckets in dB, strongest signal last:
# bucket 0 is "more than 73 dB", bucket 7 "10 dB or less".
_ATTENUATION_ABOVE = (73, 63, 51, 33, 27, 15, 10)
# Upper bounds (inclusive) of the duration buckets in minutes: bucket 0 is exactly 0 minutes,
# bucket 1 up to 5, ..., bucket 6 up to 30, bucket 7 more than 30.
_DURATION_UP_TO = (0, 5, 10, 15, 20, 25, 30)


@dataclass(frozen=True)
class ExposureConfiguration:
    """The `exposure_configuration` of the settings, as the phone hands it to the framework."""

    attenuation_thresholds: tuple[int, int]
    attenuation_scores: tuple[int, ...]
    days_since_last_exposure_scores: tuple[int, ...]
    duration_scores: tuple[int, ...]
    transmission_risk_scores: tuple[int, ...]
    minimum_risk_score: int

    @classmethod
    def from_settings(cls, exposure_configuration: dict[str, object]) -> ExposureConfiguration:
        def scores(name: str) -> tuple[int, ...]:
            return tuple(int(v) for v in exposure_configuration[name])  # type: ignore[attr-defined]

        low, high = scores("attenuation_thresholds")
        return cls(
            attenuation_thresholds=(low, high),
            attenuation_scores=scores("attenuation_bucket_scores"),
            days_since_last_exposure_scores=scores("days_since_last_exposure_bucket_scores"),
            duration_scores=scores("duration_bucket_scores"),
            transmission_risk_scores=scores("transmission_risk_bucket_scores"),
            minimum_risk_score=int(exposure_configuration["minimum_risk_score"]),  # type: ignore[call-overload]
        )


@dataclass(frozen=True)
class Exposure:
    """One encounter with the phone of someone who later tested positive.

    `signal` is what the phone measured: (attenuation in dB, minutes) pairs. `transmission_risk`
    is the bucket of the key's transmission risk (1 = the first score of the list, 8 the last).
    """

    signal: tuple[tuple[int, int], ...]
    days_since: int
    transmission_risk: int = 1

    def __post_init__(self) -> None:
        if not self.signal or any(minutes < 0 or db < 0 for db, minutes in self.signal):
            raise ValueError("an exposure needs (attenuation >= 0, minutes >= 0) pairs")
        if self.days_since < 0:
            raise ValueError("days since the exposure cannot be negative")
        if not 1 <= self.transmission_risk <= BUCKETS:
            raise ValueError("the transmission risk bucket is 1..8")

    @property
    def minutes(self) -> int:
        return sum(minutes for _db, minutes in self.signal)


@dataclass(frozen=True)
class Score:
    """What the framework computes for one exposure, and what the app then decides."""

    attenuation_level: int
    days_level: int
    duration_level: int
    transmission_level: int
    total: int  # the product, as Android reports it (0..4096)
    reported: int  # what the phone compares: the product, capped at 255 on iOS
    counted: bool  # at or above minimum_risk_score: in the summary at all
    attenuation_durations: tuple[int, int, int]  # minutes below, between, above the thresholds


def attenuation_bucket(attenuation_db: int) -> int:
    """0 for more than 73 dB (far), 7 for 10 dB or less (very close)."""
    for bucket, bound in enumerate(_ATTENUATION_ABOVE):
        if attenuation_db > bound:
            return bucket
    return BUCKETS - 1


def duration_bucket(minutes: int) -> int:
    """0 for no time at all, then one bucket per 5 minutes up to 30, 7 for more than 30."""
    for bucket, bound in enumerate(_DURATION_UP_TO):
        if minutes <= bound:
            return bucket
    return BUCKETS - 1


def days_bucket(days_since: int) -> int:
    """0 for 14 days ago or more, 7 for today or yesterday: one bucket per two days."""
    if days_since >= 14:
        return 0
    return BUCKETS - 1 - days_since // 2


def attenuation_level(scores: Sequence[int], signal: Sequence[tuple[int, int]]) -> int:
    """The level values of the measured attenuations, weighted by their minutes and averaged
    (rounded half up); an exposure of no time at all takes its first reading's value."""
    minutes = sum(m for _db, m in signal)
    if minutes == 0:
        return scores[attenuation_bucket(signal[0][0])]
    weighted = sum(scores[attenuation_bucket(db)] * m for db, m in signal)
    # Integers only: a float's rounding would make 2.5 go either way.
    return (2 * weighted + minutes) // (2 * minutes)


def attenuation_durations(
    thresholds: tuple[int, int], signal: Sequence[tuple[int, int]]
) -> tuple[int, int, int]:
    """Minutes at or below the first threshold, above it up to the second, above the second."""
    low, high = thresholds
    near = sum(m for db, m in signal if db <= low)
    middle = sum(m for db, m in signal if low < db <= high)
    far = sum(m for db, m in signal if db > high)
    return near, middle, far


def score(configuration: ExposureConfiguration, exposure: Exposure, platform: Platform) -> Score:
    attenuation = attenuation_level(configuration.attenuation_scores, exposure.signal)
    days = configuration.days_since_last_exposure_scores[days_bucket(exposure.days_since)]
    duration = configuration.duration_scores[duration_bucket(exposure.minutes)]
    transmission = configuration.transmission_risk_scores[exposure.transmission_risk - 1]
    total = attenuation * days * duration * transmission
    reported = min(total, IOS_RISK_SCORE_MAX) if platform == "ios" else total
    return Score(
        attenuation_level=attenuation,
        days_level=days,
        duration_level=duration,
        transmission_level=transmission,
        total=total,
        reported=reported,
        counted=reported >= configuration.minimum_risk_score,
        attenuation_durations=attenuation_durations(
            configuration.attenuation_thresholds, exposure.signal
        ),
    )


def phone_warns(result: Score, exposure_info_minimum_risk_score: int) -> bool:
    """The apps warn when a counted exposure reaches `exposure_info_minimum_risk_score`."""
    return result.counted and result.reported >= exposure_info_minimum_risk_score


def warning_threshold(configuration: ExposureConfiguration, exposure_info_minimum: int) -> int:
    """The lowest score at which the phone warns: both thresholds must be reached."""
    return max(configuration.minimum_risk_score, exposure_info_minimum)
