"""The "guessing under way" gauges of /metrics (authority.operations.prometheus)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily

from authority.ingestion.guessing.selectors import guessing_activity

# The failed lookups are shown in steps: one patient's mistyped code must not move a figure that
# is scraped every 15 s (docs/metrics.md); an attack moves it by hundreds.
FAILED_LOOKUPS_STEP = 50


def guessing_metric_families() -> Iterator[GaugeMetricFamily]:
    activity = guessing_activity()
    failed = GaugeMetricFamily(
        "authority_guessing_failed_lookups",
        "Code lookups (check-otp and upload) that failed nationally in the last 10 minutes,"
        f" rounded down to a multiple of {FAILED_LOOKUPS_STEP}",
    )
    steps = activity.failed_last_10_minutes // FAILED_LOOKUPS_STEP
    failed.add_metric([], steps * FAILED_LOOKUPS_STEP)
    yield failed
    throttled = GaugeMetricFamily(
        "authority_guessing_networks_throttled",
        "Networks (IPv4 /24, IPv6 /48) that may not look a code up now, having used up their budget",
    )
    throttled.add_metric([], activity.throttled_networks)
    yield throttled
    guard = GaugeMetricFamily(
        "authority_guessing_guard_active",
        "1 while the national guard holds networks that failed to their tighter daily cap",
    )
    guard.add_metric([], int(activity.guard_active))
    yield guard
