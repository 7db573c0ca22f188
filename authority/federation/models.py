"""What the federation keeps: our keys waiting to be shared, the uploads made, the batches received and their keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FederationRun(models.Model):
    """One upload or download run against the gateway, with its progress and figures."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", pgettext_lazy("federation run", "Upload")
        DOWNLOAD = "download", pgettext_lazy("federation run", "Download")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        MANUAL = "manual", _("Sync now")
        CALLBACK = "callback", _("Gateway notification")
        COMMAND = "command", _("Command")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    batches = models.PositiveIntegerField(_("batches"), default=0)
    keys_shared = models.PositiveIntegerField(_("keys shared"), default=0)
    keys_received = models.PositiveIntegerField(_("keys received"), default=0)
    keys_refused = models.PositiveIntegerField(_("keys refused"), default=0)
    keys_invalid = models.PositiveIntegerField(_("keys not valid for phones"), default=0)
    message = models.TextField(_("result"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("federation run")
        verbose_name_plural = _("federation runs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.get_status_display()}"


class OutboundBatch(models.Model):
    """One upload to the gateway under its own batch tag, from first try to the gateway's answer.

    The tag is written before the first request and reused by every retry of the same keys,
    so a batch the gateway stored but whose answer was lost is recognised by the tag's 409
    while the gateway remembers it (2 to 3 days), or by our signature in its audit. Past
    that, the batch is held for an operator rather than sent again blindly.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the gateway")
        SHARED = "shared", _("Shared")
        ALREADY_SHARED = "already_shared", _("Already on the gateway")
        REFUSED = "refused", _("Refused by the gateway")
        HELD = "held", _("Held for an operator")

    batch_tag = models.CharField(_("batch tag"), max_length=100, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    run = models.ForeignKey(
        FederationRun,
        verbose_name=_("run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_batches",
    )
    # The signature is kept so that a retry sends the very same bytes as the first try.
    batch_signature = models.TextField(_("batch signature"), blank=True)
    key_count = models.PositiveIntegerField(_("keys"), default=0)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    message = models.TextField(_("result"), blank=True)
    # A worker sending the batch holds it until then; a dead worker's batch is taken over after.
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The run that held the batch for an operator (status HELD).
    held_by = models.ForeignKey(
        FederationRun,
        verbose_name=_("held by run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held_batches",
    )
    # When the first request that may have stored the batch left (empty while none may have):
    # the gateway forgets what it stored 2 to 3 days later.
    first_sent_at = models.DateTimeField(_("first sent"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("batch sent to the gateway")
        verbose_name_plural = _("batches sent to the gateway")

    def __str__(self) -> str:
        return self.batch_tag


class OutboundKey(models.Model):
    """One of our keys that its owner agreed to share with the countries they visited.

    A copy of what we publish (no link to the keys app's rows, no upload id, no arrival
    time, a random primary key): nothing here ties the keys of one upload together beyond
    what the gateway itself will show (their visited countries). `batch` is the claim: a
    key is in at most one gateway upload at a time, and once that upload is shared, for good.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key_data = models.BinaryField(_("key data"), max_length=16)
    rolling_start_interval_number = models.IntegerField(_("rolling start interval number"))
    rolling_period = models.PositiveSmallIntegerField(_("rolling period"))
    # The values as the gateway receives them (its encodings; see docs/federation.md).
    transmission_risk_level = models.IntegerField(_("transmission risk level"))
    report_type = models.PositiveSmallIntegerField(_("report type"))
    days_since_onset_of_symptoms = models.IntegerField(_("days since onset (EFGS encoding)"))
    # Sorted ISO codes joined by commas: the consented countries among those we share with.
    visited_countries = models.CharField(_("visited countries"), max_length=200)
    # The key stops being valid, plus the publication's embargo: not shared before.
    shareable_from = models.DateTimeField(_("shareable from"))
    batch = models.ForeignKey(
        OutboundBatch,
        verbose_name=_("upload"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="keys",
    )

    class Meta:
        verbose_name = _("key to share")
        verbose_name_plural = _("keys to share")
        constraints = [
            models.UniqueConstraint(
                fields=["key_data", "rolling_start_interval_number"], name="outbound_key_once"
            )
        ]
        indexes = [models.Index(fields=["shareable_from"], name="outbound_key_due")]

    def __str__(self) -> str:
        return f"{bytes(self.key_data).hex()[:8]}… @{self.rolling_start_interval_number}"


class InboundBatch(models.Model):
    """A batch downloaded from the gateway, and what became of its keys.

    The newest row is where the next download resumes: its next batch tag, or the batch
    itself again to learn whether the gateway has linked a newer one since.
    """

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        PARTLY_REFUSED = "partly_refused", _("Partly refused")
        REFUSED = "refused", _("Refused")
        EMPTY = "empty", _("No keys for us")

    batch_tag = models.CharField(_("batch tag"), max_length=100, unique=True)
    batch_date = models.DateField(_("gateway day"))
    next_batch_tag = models.CharField(_("next batch tag"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    run = models.ForeignKey(
        FederationRun,
        verbose_name=_("run"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_batches",
    )
    keys_received = models.PositiveIntegerField(_("keys received"), default=0)
    keys_accepted = models.PositiveIntegerField(_("keys kept"), default=0)
    keys_refused = models.PositiveIntegerField(_("keys refused"), default=0)
    keys_invalid = models.PositiveIntegerField(_("keys not valid for phones"), default=0)
    keys_duplicate = models.PositiveIntegerField(_("keys already known"), default=0)
    downloaded_at = models.DateTimeField(_("downloaded"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("batch received from the gateway")
        verbose_name_plural = _("batches received from the gateway")

    def __str__(self) -> str:
        return self.batch_tag


class InboundChunk(models.Model):
    """One upload inside a downloaded batch (an audit entry): its country and whether it verified."""

    batch = models.ForeignKey(
        InboundBatch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="chunks"
    )
    position = models.PositiveIntegerField(_("position"))
    country = models.CharField(_("country"), max_length=2)
    key_count = models.PositiveIntegerField(_("keys"))
    uploaded_at = models.DateTimeField(_("uploaded"), null=True, blank=True)
    signing_thumbprint = models.CharField(
        _("signing certificate (SHA-256)"), max_length=64, blank=True
    )
    verified = models.BooleanField(_("verified"))
    # Short code ("signature", "trust_anchor", "audit", ...) and the sentence for operators.
    reason = models.CharField(_("reason"), max_length=16, blank=True)
    message = models.TextField(_("details"), blank=True)

    class Meta:
        ordering = ["batch", "position"]
        verbose_name = _("part of a received batch")
        verbose_name_plural = _("parts of received batches")

    def __str__(self) -> str:
        return f"{self.batch} #{self.position} {self.country}"


class ReceivedKey(models.Model):
    """A key from another country's app, verified and valid for phones, waiting for our exports.

    Keys that list Italy among their visited countries go into the national exports; the
    others into the per-country exports of the countries they visited (and their origin),
    for our users who travelled there. Never uploaded back to the gateway.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key_data = models.BinaryField(_("key data"), max_length=16)
    rolling_start_interval_number = models.IntegerField(_("rolling start interval number"))
    rolling_period = models.PositiveSmallIntegerField(_("rolling period"))
    rolling_end_interval_number = models.IntegerField(_("end of validity (interval number)"))
    # The GAEN values phones get: report type, days since onset decoded to -14..14 (None when
    # unknown), transmission risk level when the origin gave one (0..8).
    report_type = models.PositiveSmallIntegerField(_("report type"))
    days_since_onset_of_symptoms = models.SmallIntegerField(
        _("days since onset of symptoms"), null=True, blank=True
    )
    transmission_risk_level = models.PositiveSmallIntegerField(
        _("transmission risk level"), null=True, blank=True
    )
    origin = models.CharField(_("origin"), max_length=2)
    # ",DE,FR," (commas around each code) so that `contains=",FR,"` finds a country.
    visited_countries = models.CharField(_("visited countries"), max_length=400)
    for_national_export = models.BooleanField(_("for the national exports"))

    class Meta:
        verbose_name = _("received key")
        verbose_name_plural = _("received keys")
        constraints = [
            models.UniqueConstraint(
                fields=["key_data", "rolling_start_interval_number"], name="received_key_once"
            )
        ]
        indexes = [
            models.Index(fields=["rolling_end_interval_number"], name="received_key_validity_end")
        ]

    def __str__(self) -> str:
        return f"{self.origin} {bytes(self.key_data).hex()[:8]}…"
