"""Uploaded exposure keys, the keys that sign them, and the batches they are published in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from authority.formats.gaen.export import ECDSA_P256_SHA256_OID

# rolling_start_interval_number counts 10-minute intervals since the Unix epoch.
INTERVAL_SECONDS = 600
INTERVALS_PER_DAY = 144


def interval_to_datetime(interval: int) -> datetime:
    return datetime.fromtimestamp(interval * INTERVAL_SECONDS, tz=UTC)


def interval_at(moment: datetime) -> int:
    """The number of the interval `moment` falls in."""
    return int(moment.timestamp()) // INTERVAL_SECONDS


class ReportType(models.IntegerChoices):
    """The GAEN report types (DESIGN.md 8), numbered as in the protobuf enum."""

    UNKNOWN = 0, _("Unknown")
    CONFIRMED_TEST = 1, _("Confirmed test")
    CONFIRMED_CLINICAL_DIAGNOSIS = 2, _("Confirmed clinical diagnosis")
    SELF_REPORT = 3, _("Self report")
    RECURSIVE = 4, _("Recursive")
    REVOKED = 5, _("Revoked")


class ExposureKey(models.Model):
    """One temporary exposure key of a patient who tested positive.

    Deliberately nothing ties the keys of one upload together (DESIGN.md 3.4): no upload id,
    no arrival time, and a random primary key instead of a sequence whose consecutive
    values would give the upload away.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key_data = models.BinaryField(_("key data"), max_length=16)
    rolling_start_interval_number = models.IntegerField(_("rolling start interval number"))
    rolling_period = models.PositiveSmallIntegerField(_("rolling period"), default=144)
    # Denormalised start + period: the embargo and retention filters use it with an index.
    rolling_end_interval_number = models.IntegerField(_("end of validity (interval number)"))
    transmission_risk_level = models.PositiveSmallIntegerField(
        _("transmission risk level"), null=True, blank=True
    )
    report_type = models.PositiveSmallIntegerField(
        _("report type"), choices=ReportType.choices, default=ReportType.CONFIRMED_TEST
    )
    days_since_onset_of_symptoms = models.SmallIntegerField(
        _("days since onset of symptoms"), null=True, blank=True
    )
    region = models.ForeignKey(
        "accounts.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    # None until a publication claims the key, then exactly one: the batch whose file
    # publishes it. Kept in ClaimedKey, not in a column here (see there why); a relation
    # through it so that `batch__isnull=True`, `batch__status=...` and `batch.keys` read
    # as they did.
    batch = models.ManyToManyField(
        "keys.Batch",
        verbose_name=_("batch"),
        through="keys.ClaimedKey",
        related_name="keys",
        blank=True,
    )

    class Meta:
        verbose_name = _("exposure key")
        verbose_name_plural = _("exposure keys")
        constraints = [
            models.UniqueConstraint(
                fields=["key_data", "rolling_start_interval_number"], name="key_stored_once"
            ),
            models.CheckConstraint(
                name="rolling_period_in_range",
                condition=models.Q(rolling_period__gte=1, rolling_period__lte=144),
            ),
        ]
        indexes = [
            models.Index(fields=["rolling_end_interval_number"], name="key_validity_end"),
        ]

    def __str__(self) -> str:
        return f"{bytes(self.key_data).hex()[:8]}… @{self.rolling_start_interval_number}"


class SigningKey(models.Model):
    """An ECDSA P-256 key that signs export files, known to phones by (key id, version).

    The private key is stored encrypted with a key derived from
    settings.SIGNING_KEY_ENCRYPTION_KEY, or not at all when it lives in a PEM file outside
    the database (`private_key_file`).
    """

    key_id = models.CharField(
        _("verification key id"),
        max_length=32,
        help_text=_("The mobile country code, 222 for Italy"),
    )
    version = models.CharField(_("version"), max_length=16)
    algorithm = models.CharField(_("algorithm"), max_length=32, default=ECDSA_P256_SHA256_OID)
    public_key_pem = models.TextField(_("public key (PEM)"))
    encrypted_private_key = models.BinaryField(editable=False, null=True)
    private_key_file = models.CharField(
        _("private key file"),
        max_length=500,
        blank=True,
        help_text=_("Path of a PEM file outside the database, when the key is not stored here"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["key_id", "version"], name="one_signing_key_per_version"
            ),
            models.CheckConstraint(
                name="signing_key_has_private_material",
                condition=models.Q(encrypted_private_key__isnull=False)
                | ~models.Q(private_key_file=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_id} {self.version}"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None

    @property
    def algorithm_name(self) -> str:
        return (
            "ECDSA P-256 with SHA-256"
            if self.algorithm == ECDSA_P256_SHA256_OID
            else self.algorithm
        )


class PublicationRun(models.Model):
    """One attempt to publish the keys that are due, with its live progress for the page."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Publish now")
        SCHEDULE = "schedule", _("Schedule")
        COMMAND = "command", _("Command")

    class Step(models.TextChoices):
        WAITING = "waiting", _("Waiting for a worker")
        SELECTING = "selecting", _("Selecting keys")
        WRITING = "writing", _("Writing and signing files")
        PUBLISHING = "publishing", _("Publishing")
        DONE = "done", _("Done")

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    step = models.CharField(_("step"), max_length=16, choices=Step.choices, default=Step.WAITING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    keys_selected = models.PositiveIntegerField(_("keys selected"), default=0)
    keys_written = models.PositiveIntegerField(_("keys written"), default=0)
    padding_keys = models.PositiveIntegerField(_("padding keys"), default=0)
    files_total = models.PositiveIntegerField(_("files"), default=0)
    files_signed = models.PositiveIntegerField(_("files signed"), default=0)
    files_written = models.PositiveIntegerField(_("files stored"), default=0)
    files_published = models.PositiveIntegerField(_("files published"), default=0)
    message = models.TextField(_("result"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("publication run")
        verbose_name_plural = _("publication runs")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED, self.Status.SKIPPED)


class Batch(models.Model):
    """One signed export file. Phones see it, under its index number, once it is published."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being written")
        PUBLISHED = "published", _("Published")
        RETIRED = "retired", _("Out of the index")

    run = models.ForeignKey(
        PublicationRun,
        verbose_name=_("publication run"),
        on_delete=models.PROTECT,
        related_name="batches",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # Which series of files it belongs to: "" the national one (/v1/keys/{n}), which every
    # phone downloads; a country's code for the keys received from the European gateway for
    # our users who visited that country (/v1/keys/eu/{country}/{n}), numbered on their own.
    country = models.CharField(_("series"), max_length=2, blank=True, default="")
    # Assigned when published, within its series; never reused, so phones can keep the
    # newest number they saw.
    index = models.PositiveIntegerField(_("index"), null=True, blank=True)
    # When its keys arrived at the server, as GAEN defines the file's time window (the
    # export's start and end timestamps): from the previous file's window to the claim.
    period_start = models.DateTimeField(_("period start"), null=True, blank=True)
    period_end = models.DateTimeField(_("period end"), null=True, blank=True)
    key_count = models.PositiveIntegerField(_("keys"), default=0)
    padding_count = models.PositiveIntegerField(_("padding keys"), default=0)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    signing_key_versions = models.CharField(
        _("signing key versions"), max_length=200, blank=True, help_text=_("Newest first")
    )
    # Recorded before the file is written, so an interrupted run's file can be found again.
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    retired_at = models.DateTimeField(_("out of the index since"), null=True, blank=True)

    class Meta:
        ordering = ["-index", "-id"]
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        constraints = [
            models.UniqueConstraint(fields=["country", "index"], name="batch_number_in_series")
        ]
        indexes = [
            models.Index(fields=["country", "status", "index"], name="batch_series_status_index")
        ]

    def __str__(self) -> str:
        if not self.index:
            return f"pending batch #{self.pk}"
        return f"batch {self.country} {self.index}" if self.country else f"batch {self.index}"

    @property
    def total_keys(self) -> int:
        return self.key_count + self.padding_count


class ClaimedKey(models.Model):
    """A key claimed by a publication: `batch` is the one file that publishes it.

    A narrow side table rather than a column of ExposureKey, because claiming is the bulk of
    a publication's writes: pointing a million key rows at their batch rewrote each wide row
    and its index entries (16 s on the benchmark machine); appending a million rows of two
    columns here takes about 0.6 s. Key rows are never written after the upload.

    On PostgreSQL the table has no index at all, not even a primary key (`managed = False`:
    migration 0002 creates it): maintaining a B-tree on a million random key ids as claims
    arrive cost more than the claim itself, and the queries that read claims (a batch's
    keys, the keys without a claim) are hash joins that read the table whole anyway, made
    so whatever the statistics say (authority.keys.planning). That
    a key is claimed at most once is the claim's own guarantee: it holds the publication
    lock and takes only keys without a claim (services/claims.py). SQLite, which
    cannot hash-join, gets a unique index on the key. A claim goes with its key
    (services/retention.py); a published key's claim is what keeps it from being published again.
    """

    key = models.OneToOneField(
        ExposureKey,
        primary_key=True,  # to Django; in the database, see above
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="claim",
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.DO_NOTHING, db_constraint=False, related_name="claims"
    )

    class Meta:
        managed = False
        db_table = "keys_claimedkey"
        verbose_name = _("claimed key")
        verbose_name_plural = _("claimed keys")

    def __str__(self) -> str:
        return f"key {self.key_id} in batch {self.batch_id}"


class ClaimedReceivedKey(models.Model):
    """A key received from the European gateway, claimed by a publication for one series.

    `country` is the batch's series: "" for the national files (keys that list Italy among
    their visited countries), else the country whose per-country files carry it; a key that
    visited two countries is claimed once for each. At most one claim per key and series,
    made holding the publication lock (services/received_claims.py), like ClaimedKey. The
    claim goes with its key when the federation's retention deletes it.
    """

    key = models.ForeignKey(
        "federation.ReceivedKey", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    country = models.CharField(_("series"), max_length=2, blank=True)
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="received_claims")

    class Meta:
        verbose_name = _("claimed received key")
        verbose_name_plural = _("claimed received keys")
        constraints = [
            # Its index also serves the key's foreign key (hence db_index=False above).
            models.UniqueConstraint(fields=["key", "country"], name="received_key_once_per_series")
        ]

    def __str__(self) -> str:
        return f"received key {self.key_id} in batch {self.batch_id}"


class PublicationLock(models.Model):
    """The single row that says which run may publish (a lease, renewed while it works).

    `token` grows with every acquisition and fences out a run that lost its lease: every
    write of a run checks that the lock still carries its token.
    """

    run = models.ForeignKey(
        PublicationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token = models.PositiveBigIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("publication lock")

    def __str__(self) -> str:
        return f"publication lock (run {self.run_id or '-'}, token {self.token})"
