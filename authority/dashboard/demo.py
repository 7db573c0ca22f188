"""A realistic, reproducible history of daily counters for demonstrations and benchmarks.

Epidemic waves of varying height, offset a little from region to region, scaled by each
region's population, with fewer codes at weekends; every other figure follows from the codes
(most are used, uploads carry up to 14 keys...) or from the number of app installations.
Only counters are made, as the real system would have left them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from authority.federation import metrics as federation_metrics
from authority.ingestion import metrics as device_metrics
from authority.ingestion.analytics import metrics as app_metrics
from authority.keys import metrics as key_metrics
from authority.otps import metrics as code_metrics
from authority.statistics.models import NATIONAL, NO_OPERATOR, DailyCounter

# Inhabitants in millions, by ISTAT code; unknown regions count as one million.
POPULATION_MILLIONS = {
    "01": 4.25, "02": 0.12, "03": 10.0, "041": 0.53, "042": 0.54, "05": 4.85, "06": 1.19,
    "07": 1.51, "08": 4.45, "09": 3.66, "10": 0.86, "11": 1.49, "12": 5.7, "13": 1.27,
    "14": 0.29, "15": 5.6, "16": 3.9, "17": 0.54, "18": 1.85, "19": 4.8, "20": 1.58,
}  # fmt: skip
CODES_PER_MILLION_AT_PEAK = 40
APP_REPORTS_PER_MILLION = 5500  # about 10 million installations, each reporting monthly
WAVE_DAYS = 240
WEEKDAY_FACTOR = [1.0, 1.0, 1.0, 1.0, 0.95, 0.75, 0.55]  # Monday first
TIME_TO_REDEEM_SHARES = [0.02, 0.10, 0.18, 0.15, 0.15, 0.12, 0.13, 0.07, 0.05, 0.03]
# Keys in an upload that has keys: mostly a full 14 days.
KEYS_SHARES = {14: 0.6, 13: 0.1, 12: 0.06, 11: 0.05, 10: 0.04, 7: 0.05, 5: 0.04, 3: 0.03, 1: 0.03}
EXPOSURE_DAYS_SHARES = [0.02, 0.08, 0.12, 0.14, 0.13, 0.11, 0.09, 0.08, 0.06, 0.05, 0.04, 0.03,
                        0.02, 0.02, 0.01]  # fmt: skip
ANDROID_SHARE = 0.78
ABROAD_SHARE = 0.01  # uploads and app reports from people living abroad, of the country's
BATCHES_PER_DAY = 24
MIN_KEYS_PER_BATCH = 1000
# The European gateway: a few patients travelled; other countries' keys at their own pace.
TRAVELLERS_SHARE = 0.04  # of our keys, shared with the countries their patients visited
MIN_KEYS_PER_GATEWAY_BATCH = 150
VISITED_SHARES = {"DE": 0.3, "FR": 0.22, "ES": 0.15, "AT": 0.1, "HR": 0.08, "GR": 0.08, "MT": 0.02}
RECEIVED_PER_DAY_AT_PEAK = {
    "DE": 4200, "FR": 1800, "ES": 900, "NL": 700, "AT": 450, "BE": 380, "PL": 260, "IE": 170,
    "DK": 140, "HR": 70, "SI": 40, "LV": 12, "CY": 6, "MT": 4,
}  # fmt: skip
REFUSAL_REASONS = ("signature", "audit", "certificate")


@dataclass(frozen=True)
class DemoRegion:
    pk: int
    code: str
    operator_ids: Sequence[int] = ()


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n <= 0:
        return 0
    if n > 40:
        spread = math.sqrt(n * p * (1 - p))
        return min(n, max(0, round(rng.gauss(n * p, spread))))
    return sum(1 for _ in range(n) if rng.random() < p)


def _multinomial(rng: random.Random, n: int, shares: Sequence[float]) -> list[int]:
    counts, left, rest = [], n, 1.0
    for share in shares[:-1]:
        taken = _binomial(rng, left, min(1.0, share / rest)) if rest > 0 else 0
        counts.append(taken)
        left -= taken
        rest -= share
    counts.append(left)
    return counts


def epidemic_level(day: date, lag: int) -> float:
    """0.05..1: waves every WAVE_DAYS days, each of its own height."""
    ordinal = day.toordinal() - lag
    wave, phase = divmod(ordinal, WAVE_DAYS)
    height = 0.35 + 0.65 * ((wave * 37) % 11) / 10
    bump = math.exp(-(((phase / WAVE_DAYS) - 0.5) ** 2) / (2 * 0.11**2))
    return 0.05 + 0.95 * height * bump


def history(
    regions: Sequence[DemoRegion], *, since: date, until: date, seed: int = 2020
) -> Iterator[DailyCounter]:
    """Counters for every region and day in [since, until], national ones included."""
    rng = random.Random(seed)
    # The gateway's figures draw from their own generator: the other counters stay as they were.
    gateway_rng = random.Random(seed + 1)
    waiting = [0]  # keys due for the gateway, not yet enough for a batch
    day = since
    while day <= until:
        national = {"uploads": 0, "redeemed": 0, "keys": 0, "reports": 0}
        for region in regions:
            yield from _region_day(rng, region, day, national)
        yield from _abroad_day(rng, day, national)
        yield from _national_day(rng, day, national)
        yield from _gateway_day(gateway_rng, day, national, waiting)
        day += timedelta(days=1)


def _counter(day: date, metric: str, value: int, region_id: int = NATIONAL, *,
             operator_id: int = NO_OPERATOR, bucket: str = "") -> DailyCounter:  # fmt: skip
    return DailyCounter(
        day=day,
        metric=metric,
        region_id=region_id,
        operator_id=operator_id,
        bucket=bucket,
        value=value,
    )


def _region_day(
    rng: random.Random, region: DemoRegion, day: date, national: dict[str, int]
) -> Iterator[DailyCounter]:
    people = POPULATION_MILLIONS.get(region.code, 1.0)
    level = epidemic_level(day, lag=sum(map(ord, region.code)) % 15)
    granted = _poisson(
        rng, people * CODES_PER_MILLION_AT_PEAK * level * WEEKDAY_FACTOR[day.weekday()]
    )
    issued = _binomial(rng, granted, 0.62)
    redeemed = _binomial(rng, granted, 0.78)
    revoked = _binomial(rng, granted - redeemed, 0.05)
    expired = granted - redeemed - revoked
    pk = region.pk

    # Who gave the codes: the region's staff, and its health information system (operator 0).
    issuers = [NO_OPERATOR, *region.operator_ids]
    weights = (
        [0.15] + [0.85 / len(region.operator_ids)] * len(region.operator_ids)
        if region.operator_ids
        else [1.0]
    )
    for metric, total in (
        (code_metrics.OTP_ISSUED, issued),
        (code_metrics.OTP_AUTHORIZED, granted - issued),
    ):
        for operator_id, count in zip(issuers, _multinomial(rng, total, weights), strict=True):
            if count:
                yield _counter(day, metric, count, pk, operator_id=operator_id)
    for metric, value in (
        (code_metrics.OTP_REDEEMED, redeemed),
        (code_metrics.OTP_REVOKED, revoked),
        (code_metrics.OTP_EXPIRED, expired),
    ):
        if value:
            yield _counter(day, metric, value, pk)
    buckets = [name for _limit, name in code_metrics.TIME_TO_REDEEM_BUCKETS]
    buckets.append(code_metrics.LONGER_THAN_ALL_BUCKETS)
    for bucket, count in zip(
        buckets, _multinomial(rng, redeemed, TIME_TO_REDEEM_SHARES), strict=True
    ):
        if count:
            yield _counter(day, code_metrics.OTP_TIME_TO_REDEEM, count, pk, bucket=bucket)

    uploads = redeemed
    with_keys = _binomial(rng, uploads, 0.97)
    key_counts = list(KEYS_SHARES)
    per_size = dict(
        zip(key_counts, _multinomial(rng, with_keys, list(KEYS_SHARES.values())), strict=True)
    )
    per_size[0] = uploads - with_keys
    keys = sum(size * count for size, count in per_size.items())
    for size, count in sorted(per_size.items()):
        if count:
            yield _counter(day, device_metrics.KEYS_PER_UPLOAD, count, pk, bucket=str(size))
    notified = _binomial(rng, uploads, 0.12)
    for days_ago, count in enumerate(_multinomial(rng, notified, EXPOSURE_DAYS_SHARES)):
        if count:
            bucket = device_metrics.days_bucket(days_ago)
            yield _counter(day, device_metrics.DAYS_SINCE_LAST_EXPOSURE, count, pk, bucket=bucket)
    for metric, value in (
        (device_metrics.UPLOADS, uploads),
        (device_metrics.UPLOADS_WITH_KEYS, with_keys),
        (device_metrics.UPLOADERS_NOTIFIED, notified),
        (key_metrics.KEYS_STORED, keys),
        (key_metrics.KEYS_PUBLISHED, keys),
    ):
        if value:
            yield _counter(day, metric, value, pk)

    reports = _poisson(rng, people * APP_REPORTS_PER_MILLION * (0.85 + 0.15 * level))
    android = _binomial(rng, reports, ANDROID_SHARE)
    for platform, count in ((app_metrics.ANDROID, android), (app_metrics.IOS, reports - android)):
        if count:
            yield _counter(day, app_metrics.APP_REPORTS, count, pk, bucket=platform)
    for metric, value in (
        (app_metrics.EXPOSURE_NOTIFICATIONS, _poisson(rng, granted * 4.5)),
        (app_metrics.EXPOSURE_PERMISSION_ON, _binomial(rng, reports, 0.93)),
        (app_metrics.BLUETOOTH_ON, _binomial(rng, reports, 0.86)),
        (app_metrics.NOTIFICATION_PERMISSION_ON, _binomial(rng, reports, 0.9)),
    ):
        if value:
            yield _counter(day, metric, value, pk)
    national["uploads"] += uploads
    national["redeemed"] += redeemed
    national["keys"] += keys
    national["reports"] += reports


def _abroad_day(rng: random.Random, day: date, national: dict[str, int]) -> Iterator[DailyCounter]:
    """People living abroad (province EX) upload and report too, counted in no region
    (region_id NATIONAL): a few, shown as the line "Abroad (EX)"."""
    uploads = _poisson(rng, ABROAD_SHARE * national["uploads"])
    with_keys = _binomial(rng, uploads, 0.97)
    keys = 14 * with_keys
    for metric, value in (
        (device_metrics.UPLOADS, uploads),
        (device_metrics.UPLOADS_WITH_KEYS, with_keys),
        (key_metrics.KEYS_STORED, keys),
        (key_metrics.KEYS_PUBLISHED, keys),
    ):
        if value:
            yield _counter(day, metric, value)
    for size, count in ((14, with_keys), (0, uploads - with_keys)):
        if count:
            yield _counter(day, device_metrics.KEYS_PER_UPLOAD, count, bucket=str(size))
    reports = _poisson(rng, ABROAD_SHARE * national["reports"])
    android = _binomial(rng, reports, ANDROID_SHARE)
    for platform, count in ((app_metrics.ANDROID, android), (app_metrics.IOS, reports - android)):
        if count:
            yield _counter(day, app_metrics.APP_REPORTS, count, bucket=platform)
    for metric, value in (
        (app_metrics.EXPOSURE_PERMISSION_ON, _binomial(rng, reports, 0.93)),
        (app_metrics.BLUETOOTH_ON, _binomial(rng, reports, 0.86)),
        (app_metrics.NOTIFICATION_PERMISSION_ON, _binomial(rng, reports, 0.9)),
    ):
        if value:
            yield _counter(day, metric, value)
    national["uploads"] += uploads
    national["keys"] += keys
    national["reports"] += reports


def _national_day(
    rng: random.Random, day: date, national: dict[str, int]
) -> Iterator[DailyCounter]:
    failed_checks = _poisson(rng, 0.06 * national["redeemed"] + 4)
    failed_uploads = _poisson(rng, 0.01 * national["uploads"] + 1)
    reports = national["reports"]
    android = round(reports * ANDROID_SHARE)
    real = {
        device_metrics.CHECK_OTP: round(national["redeemed"] * 1.2) + failed_checks,
        device_metrics.UPLOAD: national["uploads"] + failed_uploads,
        app_metrics.OPERATIONAL_INFO_GOOGLE: android,
        app_metrics.OPERATIONAL_INFO_APPLE: reports - android,
    }
    for endpoint, value in real.items():
        yield _counter(day, device_metrics.REAL_REQUESTS, value, bucket=endpoint)
        # Cover traffic: every app sends dummy requests of each kind now and then.
        dummy = _poisson(
            rng,
            reports * 0.35
            if endpoint in (device_metrics.CHECK_OTP, device_metrics.UPLOAD)
            else value * 0.5,
        )
        yield _counter(day, device_metrics.DUMMY_REQUESTS, dummy, bucket=endpoint)
        throttled = _poisson(rng, 2)
        if throttled:
            yield _counter(day, device_metrics.THROTTLED_REQUESTS, throttled, bucket=endpoint)
    for endpoint, value in (
        (device_metrics.CHECK_OTP, failed_checks),
        (device_metrics.UPLOAD, failed_uploads),
    ):
        if value:
            yield _counter(day, device_metrics.FAILED_OTP_CHECKS, value, bucket=endpoint)
    yield _counter(day, key_metrics.BATCHES_PUBLISHED, BATCHES_PER_DAY)
    padding = max(0, BATCHES_PER_DAY * MIN_KEYS_PER_BATCH - national["keys"])
    if padding:
        yield _counter(day, key_metrics.PADDING_KEYS_PUBLISHED, padding)
    refused = _poisson(rng, 0.002 * reports)
    if refused:
        yield _counter(
            day, app_metrics.APP_REPORTS_REFUSED, refused, bucket=app_metrics.REFUSED_REPEAT
        )


def _gateway_day(
    rng: random.Random, day: date, national: dict[str, int], waiting: list[int]
) -> Iterator[DailyCounter]:
    """Keys shared with the European gateway (in batches of at least 150), received from it
    by country of origin, and the odd refused batch."""
    waiting[0] += _binomial(rng, national["keys"], TRAVELLERS_SHARE)
    if waiting[0] >= MIN_KEYS_PER_GATEWAY_BATCH:
        shared, waiting[0] = waiting[0], 0
        yield _counter(day, federation_metrics.KEYS_SHARED, shared)
        for country, share in VISITED_SHARES.items():
            if count := _binomial(rng, shared, share):
                yield _counter(day, federation_metrics.KEYS_SHARED_WITH, count, bucket=country)
    for origin, at_peak in RECEIVED_PER_DAY_AT_PEAK.items():
        level = epidemic_level(day, lag=sum(map(ord, origin)) % 40)
        received = _poisson(rng, at_peak * (0.2 + 0.8 * level))
        if received:
            yield _counter(day, federation_metrics.KEYS_RECEIVED, received, bucket=origin)
        if invalid := _binomial(rng, received, 0.01):
            yield _counter(day, federation_metrics.KEYS_INVALID, invalid, bucket=origin)
    if rng.random() < 0.03:
        origin = rng.choice(list(RECEIVED_PER_DAY_AT_PEAK))
        reason = rng.choice(REFUSAL_REASONS)
        yield _counter(day, federation_metrics.CHUNKS_REFUSED, 1, bucket=reason)
        yield _counter(day, federation_metrics.KEYS_REFUSED, _poisson(rng, 300) + 1, bucket=origin)
    if rng.random() < 0.015:
        status = rng.choice(("400", "207"))
        yield _counter(day, federation_metrics.UPLOADS_REFUSED, 1, bucket=status)
