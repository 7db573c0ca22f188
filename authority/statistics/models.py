"""Daily aggregate counters: the only statistics the system keeps (DESIGN.md 3.5)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

NATIONAL = 0  # region_id of counters that belong to no region
NO_OPERATOR = 0


class DailyCounter(models.Model):
    """How many times `metric` happened on `day` (the authority's time zone) in one region.

    `operator_id` is set only for metrics about staff work (codes issued per operator);
    `bucket` splits a metric into a histogram (e.g. time to redeem "<=5m"). Plain integers
    instead of foreign keys keep the unique key free of NULLs, which databases treat as distinct.
    """

    day = models.DateField(_("day"))
    metric = models.CharField(_("metric"), max_length=48)
    region_id = models.IntegerField(_("region"), default=NATIONAL)
    operator_id = models.IntegerField(_("operator"), default=NO_OPERATOR)
    bucket = models.CharField(_("bucket"), max_length=16, default="", blank=True)
    value = models.BigIntegerField(_("value"), default=0)

    class Meta:
        verbose_name = _("daily counter")
        verbose_name_plural = _("daily counters")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "region_id", "operator_id", "bucket"],
                name="one_counter_per_key",
            )
        ]
        indexes = [models.Index(fields=["metric", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.metric} r{self.region_id} {self.bucket} = {self.value}"


class AppliedFlush(models.Model):
    """A batch of buffered increments that reached the database (authority.statistics.buffer).

    Inserted in the same transaction as the counters it adds to, so a flush that is retried
    after a crash (its hash still in Redis) is recognised and never applied twice.
    """

    flush_id = models.CharField(_("flush"), max_length=64, unique=True)
    applied_at = models.DateTimeField(_("applied"), auto_now_add=True)
    counters = models.PositiveIntegerField(_("counters"), default=0)

    class Meta:
        verbose_name = _("applied flush of counters")
        verbose_name_plural = _("applied flushes of counters")

    def __str__(self) -> str:
        return f"{self.flush_id} ({self.counters} counters)"
