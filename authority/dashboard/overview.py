"""The overview's headline figures for one scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from authority.dashboard import selectors
from authority.dashboard.selectors import ActiveSigningKey, LastBatch, Scope
from authority.ingestion import metrics as device_metrics
from authority.keys import metrics as key_metrics
from authority.otps import metrics as code_metrics
from authority.statistics.services import local_day


@dataclass(frozen=True)
class Headline:
    today: date
    codes_today: int
    codes_last_7_days: int
    codes_in_period: int
    redeemed_in_period: int
    uploads_in_period: int
    keys_published_in_period: int
    last_batch: LastBatch | None
    signing_key: ActiveSigningKey | None
    # Batches leave the index (and the database) 14 days after publication, while the counters
    # stay: with no batch left, whether anything was ever published says which note is true.
    ever_published: bool

    @property
    def redemption_rate(self) -> float | None:
        """Share of the period's codes that were used, in percent (None without codes)."""
        if not self.codes_in_period:
            return None
        return 100 * self.redeemed_in_period / self.codes_in_period


def headline(scope: Scope) -> Headline:
    today = local_day()
    recent = Scope(since=today - timedelta(days=6), until=today, region=scope.region)
    last_week = selectors.daily_totals(recent, code_metrics.GRANTED)
    period = selectors.totals(
        scope,
        [
            *code_metrics.GRANTED,
            code_metrics.OTP_REDEEMED,
            device_metrics.UPLOADS,
            key_metrics.KEYS_PUBLISHED,
        ],
    )
    last_batch = selectors.last_published_batch()
    keys_published = period.get(key_metrics.KEYS_PUBLISHED, 0)
    return Headline(
        today=today,
        codes_today=sum(last_week[metric].get(today, 0) for metric in code_metrics.GRANTED),
        codes_last_7_days=sum(sum(last_week[metric].values()) for metric in code_metrics.GRANTED),
        codes_in_period=sum(period.get(metric, 0) for metric in code_metrics.GRANTED),
        redeemed_in_period=period.get(code_metrics.OTP_REDEEMED, 0),
        uploads_in_period=period.get(device_metrics.UPLOADS, 0),
        keys_published_in_period=keys_published,
        last_batch=last_batch,
        signing_key=selectors.active_signing_key(),
        ever_published=last_batch is not None
        or keys_published > 0
        or selectors.counted_ever(key_metrics.KEYS_PUBLISHED),
    )
