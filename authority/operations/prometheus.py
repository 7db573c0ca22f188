"""Prometheus metrics for operations: aggregate figures read at scrape time, nothing personal."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from authority.ingestion.guessing.metrics import guessing_metric_families
from authority.statistics.models import DailyCounter
from authority.statistics.services import local_day

UNPUBLISHED_SECONDS = 300


class AuthorityCollector(Collector):
    def describe(self) -> list[GaugeMetricFamily]:
        return []  # registering must not touch the database

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        from authority.keys.models import Batch, PublicationRun
        from authority.keys.selectors import active_signing_keys, unpublished_key_count
        from authority.otps.models import Otp

        pending = GaugeMetricFamily(
            "authority_codes_usable", "Codes issued or authorized, not yet used or expired"
        )
        pending.add_metric([], Otp.objects.usable().count())
        yield pending

        waiting = GaugeMetricFamily(
            "authority_keys_unpublished",
            f"Stored keys not yet claimed by a batch (recounted at most every {UNPUBLISHED_SECONDS} s)",
        )
        # An anti-join over every stored key (~0.3 s per million): not at every scrape.
        unpublished = cache.get_or_set(
            "metrics:keys-unpublished",
            unpublished_key_count,
            UNPUBLISHED_SECONDS,
        )
        waiting.add_metric([], int(unpublished or 0))
        yield waiting

        last = (
            Batch.objects.exclude(published_at=None)
            .order_by("-published_at")
            .values_list("published_at", flat=True)
            .first()
        )
        age = GaugeMetricFamily(
            "authority_last_batch_age_seconds", "Seconds since the newest batch was published"
        )
        age.add_metric([], (timezone.now() - last).total_seconds() if last else float("nan"))
        yield age

        keys = GaugeMetricFamily(
            "authority_active_signing_keys", "Signing keys that sign new files"
        )
        keys.add_metric([], len(active_signing_keys()))
        yield keys

        running = GaugeMetricFamily(
            "authority_publication_running", "1 while a publication is running"
        )
        running.add_metric([], int(PublicationRun.objects.filter(finished_at=None).exists()))
        yield running

        today = GaugeMetricFamily(
            "authority_events_today",
            "Today's national total of each daily counter",
            labels=["metric"],
        )
        for metric, total in (
            DailyCounter.objects.filter(day=local_day())
            .values_list("metric")
            .annotate(total=Sum("value"))
            .order_by()
        ):
            today.add_metric([metric], total)
        yield today

        yield from guessing_metric_families()
