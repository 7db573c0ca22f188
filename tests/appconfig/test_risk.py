"""The risk computation against GAEN v1's definition (Apple's "Exposure Risk Value Calculation
in ExposureNotification Version 1", the ENExposureConfiguration level-value tables, Google's
v1 ExposureConfiguration) and the Immuni apps' warning rule. Pure code: no database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authority.appconfig import risk
from authority.appconfig.defaults import immuni_defaults

IMMUNI_ANDROID = risk.ExposureConfiguration.from_settings(
    immuni_defaults("android")["exposure_configuration"]
)
IMMUNI_IOS = risk.ExposureConfiguration.from_settings(
    immuni_defaults("ios")["exposure_configuration"]
)

# Counting scores: bucket i scores i + 1, so a score names the bucket it came from.
COUNTING = risk.ExposureConfiguration(
    attenuation_thresholds=(50, 70),
    attenuation_scores=(1, 2, 3, 4, 5, 6, 7, 8),
    days_since_last_exposure_scores=(1, 2, 3, 4, 5, 6, 7, 8),
    duration_scores=(1, 2, 3, 4, 5, 6, 7, 8),
    transmission_risk_scores=(1, 2, 3, 4, 5, 6, 7, 8),
    minimum_risk_score=1,
)


@pytest.mark.parametrize(
    ("attenuation", "bucket"),
    [
        (200, 0),
        (74, 0),
        (73, 1),
        (64, 1),
        (63, 2),
        (52, 2),
        (51, 3),
        (34, 3),
        (33, 4),
        (28, 4),
        (27, 5),
        (16, 5),
        (15, 6),
        (11, 6),
        (10, 7),
        (0, 7),
    ],
)
def test_attenuation_buckets_follow_the_gaen_table(attenuation, bucket):
    # attenuationLevelValues: [0] > 73 dB, [1] 73 >= a > 63, ..., [7] 10 >= a.
    assert risk.attenuation_bucket(attenuation) == bucket


@pytest.mark.parametrize(
    ("minutes", "bucket"),
    [
        (0, 0),
        (1, 1),
        (5, 1),
        (6, 2),
        (10, 2),
        (15, 3),
        (16, 4),
        (20, 4),
        (25, 5),
        (30, 6),
        (31, 7),
        (90, 7),
    ],
)
def test_duration_buckets_follow_the_gaen_table(minutes, bucket):
    # durationLevelValues: [0] == 0, [1] <= 5, [2] <= 10, ..., [6] <= 30, [7] > 30 minutes.
    assert risk.duration_bucket(minutes) == bucket


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, 7),
        (1, 7),
        (2, 6),
        (3, 6),
        (4, 5),
        (6, 4),
        (8, 3),
        (10, 2),
        (12, 1),
        (13, 1),
        (14, 0),
        (40, 0),
    ],
)
def test_days_buckets_follow_the_gaen_table(days, bucket):
    # daysSinceLastExposureLevelValues: [0] >= 14 days, [1] >= 12, ..., [7] >= 0.
    assert risk.days_bucket(days) == bucket


def test_the_total_risk_score_is_the_product_of_the_four_level_values():
    exposure = risk.Exposure(signal=((45, 20),), days_since=5, transmission_risk=3)
    result = risk.score(COUNTING, exposure, "android")
    # 45 dB: bucket 3 (4); 20 min: bucket 4 (5); 5 days: bucket 5 (6); level 3: bucket 2 (3).
    assert (result.attenuation_level, result.duration_level) == (4, 5)
    assert (result.days_level, result.transmission_level) == (6, 3)
    assert result.total == result.reported == 4 * 5 * 6 * 3


def test_ios_caps_the_score_at_255_android_does_not():
    exposure = risk.Exposure(signal=((5, 45),), days_since=0, transmission_risk=8)
    assert risk.score(COUNTING, exposure, "android").reported == 4096
    assert risk.score(COUNTING, exposure, "ios").reported == 255
    assert risk.score(COUNTING, exposure, "ios").total == 4096


def test_attenuation_is_weighted_by_the_minutes_at_each_level():
    # 10 minutes at level 4 (45 dB) and 50 at level 2 (70 dB is bucket 1, score 2):
    # (4 * 10 + 2 * 50) / 60 = 2.33, rounded to 2.
    assert risk.attenuation_level(COUNTING.attenuation_scores, [(45, 10), (70, 50)]) == 2
    # (4 * 10 + 2 * 10) / 20 = 3; (4 * 15 + 2 * 5) / 20 = 3.5, rounded half up to 4.
    assert risk.attenuation_level(COUNTING.attenuation_scores, [(45, 10), (70, 10)]) == 3
    assert risk.attenuation_level(COUNTING.attenuation_scores, [(45, 15), (70, 5)]) == 4


def test_attenuation_durations_split_the_minutes_at_the_thresholds():
    exposure = risk.Exposure(signal=((45, 10), (50, 5), (60, 7), (70, 3), (80, 9)), days_since=1)
    assert risk.score(COUNTING, exposure, "android").attenuation_durations == (15, 10, 9)


def test_the_thresholds_do_not_change_the_score():
    exposure = risk.Exposure(signal=((45, 10), (80, 9)), days_since=1)
    other = risk.ExposureConfiguration(**{**COUNTING.__dict__, "attenuation_thresholds": (30, 90)})
    assert (
        risk.score(COUNTING, exposure, "android").total
        == risk.score(other, exposure, "android").total
    )


def test_immuni_warns_from_a_quarter_of_an_hour_within_about_two_metres():
    """Immuni's published configuration: durations above 15 minutes, attenuations up to 63 dB,
    every age and level; Android warns from 20 (5 x 5), iOS from 12 (3 x 5)."""
    close_long = risk.Exposure(signal=((55, 20),), days_since=3)
    close_short = risk.Exposure(signal=((55, 15),), days_since=3)
    far_long = risk.Exposure(signal=((70, 30),), days_since=3)
    phones: tuple[tuple[risk.ExposureConfiguration, int, risk.Platform], ...] = (
        (IMMUNI_ANDROID, 20, "android"),
        (IMMUNI_IOS, 12, "ios"),
    )
    for configuration, warns_from, platform in phones:
        assert risk.phone_warns(risk.score(configuration, close_long, platform), warns_from)
        assert not risk.phone_warns(risk.score(configuration, close_short, platform), warns_from)
        assert not risk.phone_warns(risk.score(configuration, far_long, platform), warns_from)
    assert risk.score(IMMUNI_ANDROID, close_long, "android").reported == 25
    assert risk.score(IMMUNI_IOS, close_long, "ios").reported == 15


def test_an_exposure_below_the_minimum_risk_score_is_not_counted_and_never_warns():
    strict = risk.ExposureConfiguration(**{**IMMUNI_ANDROID.__dict__, "minimum_risk_score": 30})
    result = risk.score(strict, risk.Exposure(signal=((55, 20),), days_since=3), "android")
    assert result.reported == 25 and not result.counted
    assert not risk.phone_warns(result, 20)
    assert risk.warning_threshold(strict, 20) == 30


# No deadline: a busy test machine is not what this checks (speed lives in benchmarks/).
@settings(deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 120), st.integers(0, 60)), min_size=1, max_size=5),
    st.integers(0, 30),
    st.integers(1, 8),
)
def test_scores_stay_within_the_gaen_range(signal, days, transmission):
    exposure = risk.Exposure(signal=tuple(signal), days_since=days, transmission_risk=transmission)
    android = risk.score(COUNTING, exposure, "android")
    ios = risk.score(COUNTING, exposure, "ios")
    assert 0 <= android.total <= risk.FULL_RISK_SCORE_MAX
    assert ios.reported == min(android.total, 255)
    assert sum(android.attenuation_durations) == exposure.minutes


@pytest.mark.parametrize(
    "arguments",
    [
        {"signal": (), "days_since": 1},
        {"signal": ((45, -1),), "days_since": 1},
        {"signal": ((45, 10),), "days_since": -1},
        {"signal": ((45, 10),), "days_since": 1, "transmission_risk": 0},
        {"signal": ((45, 10),), "days_since": 1, "transmission_risk": 9},
    ],
)
def test_impossible_exposures_are_refused(arguments):
    with pytest.raises(ValueError):
        risk.Exposure(**arguments)
