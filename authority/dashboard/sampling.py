"""What the apps' settings say about the statistics: how many apps a count of operational-info
reports stands for, and how much cover traffic each app sends.

The apps send their operational info only for a sample (Immuni's apps: at most one report a
month with an exposure, one without, each sent with the probability in the settings,
`operational_info_with_exposure_sampling_rate` / `..._without_...`). A day's count divided by
the rate in force that day estimates the apps whose monthly report fell on that day.

What the counters allow. `app_reports` is kept per platform, but `exposure_notifications`
(the reports with an exposure, one per app that had shown a notification) is not. When both
platforms have the same rates the estimate is exact arithmetic: with / rate_with + (all -
with) / rate_without. When they differ, how the reports split between the platforms would
decide the estimate; the split is not published anywhere (a download that depended on it
would give the platforms' counts away, small ones included), so the estimate uses only the
two published counts: the lowest and the highest value any split could give are computed
with the highest and the lowest rates, and the middle is the estimate, marked approximate.
Also approximate: the day a rate changed (phones pick the new settings up over the following
hours) and days when a build override gives some builds other rates. No estimate before the
first settings version, nor when a rate is 0 (no app of that kind reports: nothing to divide).

Cover traffic (the apps' dummy requests, read in immuni-app-android's
DummyExposureIngestionWorker and ExposureAnalyticsManager and immuni-app-ios'
DataUploadLogic+DummyTraffic): a sequence of dummy uploads starts on average every
`dummy_teks_average_opportunity_waiting_time` seconds; it sends one request, then another with
the first of `dummy_teks_request_probabilities`, then another with the second..., the last
probability repeating; a dummy operational-info report goes on average every
`dummy_analytics_waiting_time` seconds. iOS sends a due sequence only when the app is opened
within its window, so its figure is what the settings allow at most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from authority.appconfig import selectors as settings_selectors
from authority.dashboard.selectors import Scope
from authority.ingestion.analytics import metrics as app_metrics

ANDROID = app_metrics.ANDROID
IOS = app_metrics.IOS
PLATFORMS = (ANDROID, IOS)
RATE_WITH = "operational_info_with_exposure_sampling_rate"
RATE_WITHOUT = "operational_info_without_exposure_sampling_rate"
RATES = (RATE_WITH, RATE_WITHOUT)
SEQUENCE_WAIT = "dummy_teks_average_opportunity_waiting_time"
SEQUENCE_PROBABILITIES = "dummy_teks_request_probabilities"
REPORT_WAIT = "dummy_analytics_waiting_time"
DUMMY_KEYS = (SEQUENCE_WAIT, SEQUENCE_PROBABILITIES, REPORT_WAIT)
DAY_SECONDS = 86_400

# Why an estimate is missing or approximate (the downloads' `estimate_note`, joined by spaces).
NO_SETTINGS = "no-settings"
RATE_ZERO = "rate-zero"
PLATFORMS_DIFFER = "platforms-differ"
RATE_CHANGED = "rate-changed"
BUILD_OVERRIDE = "build-override"


@dataclass(frozen=True)
class PlatformDay:
    """One platform's settings on one day, as the statistics read them."""

    with_exposure: float | None  # sampling rates, 0..1 (None: not a number)
    without_exposure: float | None
    sequences_per_day: float | None  # dummy upload sequences started per app and day
    requests_per_sequence: float | None  # None: the settings let a sequence run on and on
    reports_per_day: float | None  # dummy operational-info reports per app and day
    rates_overridden: bool  # a build override gives some builds other sampling rates
    dummy_overridden: bool

    @property
    def dummy_per_day(self) -> float | None:
        """Expected dummy requests per app and day, all endpoints together."""
        if None in (self.sequences_per_day, self.requests_per_sequence, self.reports_per_day):
            return None
        assert self.sequences_per_day is not None and self.requests_per_sequence is not None
        assert self.reports_per_day is not None
        return self.sequences_per_day * self.requests_per_sequence + self.reports_per_day


@dataclass(frozen=True)
class SamplingDay:
    """Every platform's settings on one day; a platform is absent before its first version."""

    day: date
    platforms: dict[str, PlatformDay]
    # A sampling rate is not the day before's (not marked on the day the first version came).
    rates_changed: bool
    # (platform, setting, before, after) of each rate that changed.
    changes: tuple[tuple[str, str, float | None, float | None], ...] = ()

    @property
    def complete(self) -> bool:
        return all(platform in self.platforms for platform in PLATFORMS)


@dataclass(frozen=True)
class Estimate:
    """Apps a day's reports stand for (rounded), or None with the reasons in `notes`."""

    apps: int | None
    with_exposure: int | None  # apps that had shown an exposure notification
    low: int | None  # what any split of the reports between the platforms could give
    high: int | None
    notes: tuple[str, ...] = ()

    @property
    def approximate(self) -> bool:
        return self.apps is not None and bool(self.notes)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _per_day(seconds: Any) -> float | None:
    wait = _number(seconds)
    return DAY_SECONDS / wait if wait and wait > 0 else None


def requests_per_sequence(probabilities: Any) -> float | None:
    """Expected requests of one dummy sequence: the first is always sent, the one after the
    n-th with probabilities[n - 1], the last probability repeating. None when that never
    ends (a last probability of 1) or the list is not one of probabilities."""
    if not isinstance(probabilities, list) or not probabilities:
        return None
    chances = [_number(p) for p in probabilities]
    if any(p is None or not 0 <= p <= 1 for p in chances):
        return None
    total = reach = 1.0
    for chance in chances:
        assert chance is not None
        reach *= chance
        total += reach
    last = chances[-1]
    assert last is not None
    if reach == 0:
        return total
    if last >= 1:
        return None
    # Past the list every further request comes with the last probability: a geometric tail.
    return total + reach * last / (1 - last)


def platform_day(settings: settings_selectors.DaySettings) -> PlatformDay:
    values = settings.values
    return PlatformDay(
        with_exposure=_number(values.get(RATE_WITH)),
        without_exposure=_number(values.get(RATE_WITHOUT)),
        sequences_per_day=_per_day(values.get(SEQUENCE_WAIT)),
        requests_per_sequence=requests_per_sequence(values.get(SEQUENCE_PROBABILITIES)),
        reports_per_day=_per_day(values.get(REPORT_WAIT)),
        rates_overridden=bool(settings.overridden_keys & set(RATES)),
        dummy_overridden=bool(settings.overridden_keys & set(DUMMY_KEYS)),
    )


def sampling_days(scope: Scope) -> dict[date, SamplingDay]:
    """The settings of each day of the scope, by day: one query, shared by the page's charts."""
    if "sampling" not in scope.shared:
        day_before = scope.since - timedelta(days=1)
        by_platform = settings_selectors.settings_by_day_of_every_platform(day_before, scope.until)
        scope.shared["sampling"] = _days(by_platform, day_before, scope.until)
    days: dict[date, SamplingDay] = scope.shared["sampling"]
    return days


def _days(
    by_platform: dict[str, list[settings_selectors.DaySettings]], since: date, until: date
) -> dict[date, SamplingDay]:
    read = {
        (entry.day, platform): platform_day(entry)
        for platform, entries in by_platform.items()
        if platform in PLATFORMS
        for entry in entries
    }
    result: dict[date, SamplingDay] = {}
    day = since + timedelta(days=1)  # `since` is only the day before, to see a change
    while day <= until:
        platforms = {p: read[(day, p)] for p in PLATFORMS if (day, p) in read}
        changes = []
        for platform, today in platforms.items():
            yesterday = read.get((day - timedelta(days=1), platform))
            if yesterday is None:
                continue  # the first version: nothing changed
            for key, before, after in (
                (RATE_WITH, yesterday.with_exposure, today.with_exposure),
                (RATE_WITHOUT, yesterday.without_exposure, today.without_exposure),
            ):
                if before != after:
                    changes.append((platform, key, before, after))
        result[day] = SamplingDay(day, platforms, bool(changes), tuple(changes))
        day += timedelta(days=1)
    return result


def estimate(reports: int, with_exposure: int, day: SamplingDay | None) -> Estimate:
    """The apps that `reports` operational-info reports stand for, `with_exposure` of them
    with an exposure, at the rates of `day`; None when no rate can be divided by."""
    if day is None or not day.complete:
        return Estimate(None, None, None, None, (NO_SETTINGS,))
    platforms = [day.platforms[p] for p in PLATFORMS]
    rates_with = [p.with_exposure for p in platforms]
    rates_without = [p.without_exposure for p in platforms]
    rates = [*rates_with, *rates_without]
    if any(rate is None or rate <= 0 for rate in rates):
        return Estimate(None, None, None, None, (RATE_ZERO,))
    with_ = [rate for rate in rates_with if rate is not None]
    without = [rate for rate in rates_without if rate is not None]
    # The counters are read one after the other: never more with an exposure than in all.
    exposed = min(with_exposure, reports)
    others = reports - exposed
    exposed_low, exposed_high = exposed / max(with_), exposed / min(with_)
    low = exposed_low + others / max(without)
    high = exposed_high + others / min(without)
    notes = []
    if round(low) != round(high):
        notes.append(PLATFORMS_DIFFER)
    if day.rates_changed:
        notes.append(RATE_CHANGED)
    if any(p.rates_overridden for p in platforms):
        notes.append(BUILD_OVERRIDE)
    return Estimate(
        apps=round((low + high) / 2),
        with_exposure=round((exposed_low + exposed_high) / 2),
        low=round(low),
        high=round(high),
        notes=tuple(notes),
    )
