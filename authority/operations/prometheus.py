"""Prometheus metrics for operations: whether the service works, never when a patient acted.

What may be shown is decided in docs/metrics.md. In short: figures about the machinery
(publication, batches, signing keys, the broker's queue) are live; figures that move with a
patient's code, upload or app report are shown only for complete days, once settled, with
small counts withheld by the one rule (authority/statistics/disclosure.py), so that a
scrape every 15 seconds can neither time one person's upload nor count it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from kombu.exceptions import ChannelError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from authority.dashboard import selectors
from authority.dashboard.counters import Counter, all_metrics
from authority.dashboard.opendata import last_settled_day
from authority.ingestion.guessing.metrics import guessing_metric_families
from authority.keys.models import Batch, PublicationRun
from authority.keys.selectors import active_signing_keys as signing_keys_in_use
from authority.statistics.models import DailyCounter
from tasks.celery import app

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2


def publication_running() -> GaugeMetricFamily:
    family = GaugeMetricFamily("authority_publication_running", "1 while a publication is running")
    family.add_metric([], int(PublicationRun.objects.filter(finished_at=None).exists()))
    return family


def last_publication_age() -> GaugeMetricFamily:
    """Runs happen on schedule whether or not keys are due: this ages only when they stop."""
    finished = (
        PublicationRun.objects.filter(
            status__in=[PublicationRun.Status.SUCCEEDED, PublicationRun.Status.SKIPPED]
        )
        .exclude(finished_at=None)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    family = GaugeMetricFamily(
        "authority_last_publication_age_seconds",
        "Seconds since a publication run last finished without failing",
    )
    family.add_metric([], _age(finished))
    return family


def publication_failures() -> GaugeMetricFamily:
    since = timezone.now() - timedelta(hours=24)
    failed = PublicationRun.objects.filter(
        status=PublicationRun.Status.FAILED, finished_at__gte=since
    ).count()
    family = GaugeMetricFamily(
        "authority_publication_failures_24h", "Publication runs that failed in the last 24 hours"
    )
    family.add_metric([], failed)
    return family


def last_batch_age() -> GaugeMetricFamily:
    """Batches are public (the key index): their times tell nothing the phones do not see."""
    last = (
        Batch.objects.exclude(published_at=None)
        .order_by("-published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    family = GaugeMetricFamily(
        "authority_last_batch_age_seconds", "Seconds since the newest batch was published"
    )
    family.add_metric([], _age(last))
    return family


def active_signing_keys() -> GaugeMetricFamily:
    family = GaugeMetricFamily("authority_active_signing_keys", "Signing keys that sign new files")
    family.add_metric([], len(signing_keys_in_use()))
    return family


def broker_messages() -> GaugeMetricFamily:
    """Tasks waiting in the broker. Uploads and app reports enqueue no task: only scheduled
    and requested work (publication, flushes, clean-ups) is counted. NaN when unreachable."""
    queue = app.conf.task_default_queue
    family = GaugeMetricFamily(
        "authority_broker_messages", "Tasks waiting in the broker's queue", labels=["queue"]
    )
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            with connection.channel() as channel:
                waiting = _waiting(channel, queue)
    except Exception as error:  # a metric reports the broker down, it does not fail the scrape
        logger.warning("Metrics: the broker did not answer: %s", error)
        waiting = math.nan
    family.add_metric([queue], waiting)
    return family


def _waiting(channel: Any, queue: str) -> float:
    try:
        return float(channel.queue_declare(queue=queue, passive=True).message_count)
    except ChannelError as error:
        if str(getattr(error, "reply_code", "")) != "404":  # kombu gives "404", amqp 404
            raise
    except FileNotFoundError:  # the embedded broker's folder: made with the first task
        pass
    return 0.0  # an empty queue does not exist until a task is sent


def settled_day_totals() -> Iterator[GaugeMetricFamily]:
    """The country's figure of every counter on the last complete, settled day: the open
    data's national figures, withheld alike (NaN). Nothing of the day under way."""
    day = last_settled_day()
    metrics = set(all_metrics()) | set(
        DailyCounter.objects.filter(day=day).values_list("metric", flat=True).distinct()
    )
    figures = selectors.published_figures(
        day, day, {Counter(m) for m in metrics}, k=settings.STATISTICS_SUPPRESS_BELOW
    )
    totals = GaugeMetricFamily(
        "authority_daily_total",
        "The country's total of each daily counter on the last complete day (see"
        " authority_daily_total_day); NaN when withheld as a small count (DESIGN.md 3.6)",
        labels=["metric"],
    )
    for metric in sorted(metrics):
        value = figures.figure([(day, Counter(metric))])
        totals.add_metric([metric], math.nan if value is None else value)
    yield totals
    when = GaugeMetricFamily(
        "authority_daily_total_day",
        "Start of the day authority_daily_total counts (Unix time, the authority's time zone)",
    )
    start = timezone.make_aware(datetime.combine(day, time.min))
    when.add_metric([], start.timestamp())
    yield when


def _age(moment: datetime | None) -> float:
    return (timezone.now() - moment).total_seconds() if moment else math.nan


Family = Callable[[], GaugeMetricFamily]

# One function per figure, read at scrape time. A new figure must be about the machinery or
# an aggregate that no single patient moves (docs/metrics.md), e.g. "guessing under way".
LIVE: list[Family] = [
    publication_running,
    last_publication_age,
    publication_failures,
    last_batch_age,
    active_signing_keys,
    broker_messages,
]


class AuthorityCollector(Collector):
    def describe(self) -> list[GaugeMetricFamily]:
        return []  # registering must not touch the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for family in LIVE:
            yield family()
        yield from guessing_metric_families()
        yield from settled_day_totals()
