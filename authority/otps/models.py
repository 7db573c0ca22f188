"""Codes that let a positive patient upload keys, kept only as keyed hashes, and HIS API keys."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OtpState(models.TextChoices):
    PENDING = "pending", _("Waiting for the app")
    REDEEMED = "redeemed", _("Used")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class OtpOrigin(models.TextChoices):
    ISSUED = "issued", _("Issued here")
    AUTHORIZED = "authorized", _("Authorized from the app")


class OnsetKind(models.TextChoices):
    SYMPTOMS = "symptoms", _("Symptom onset")
    TEST = "test", _("Test date (no symptoms)")


class OtpQuerySet(models.QuerySet["Otp"]):
    def usable(self, now: datetime | None = None) -> OtpQuerySet:
        """Authorized, not used, not revoked and not past their expiry (even if not marked yet)."""
        return self.filter(state=OtpState.PENDING, expires_at__gt=now or timezone.now())


class Otp(models.Model):
    """One code's life: pending, then redeemed, expired or revoked; deleted after a short grace.

    The code itself is never stored: `code_hmac` is HMAC-SHA256 (settings.OTP_HMAC_KEY) of the
    hex SHA-256 the app sends, so a database dump cannot be brute-forced without the key.
    """

    code_hmac = models.CharField(max_length=64, unique=True, editable=False)
    origin = models.CharField(_("origin"), max_length=16, choices=OtpOrigin.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=OtpState.choices, default=OtpState.PENDING
    )
    onset_kind = models.CharField(
        _("kind of date"), max_length=16, choices=OnsetKind.choices, default=OnsetKind.SYMPTOMS
    )
    onset_date = models.DateField(_("symptom onset or test date"))
    region = models.ForeignKey(
        "accounts.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "otps.ApiKey",
        verbose_name=_("API key"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    expires_at = models.DateTimeField(_("expires"))
    # When it was redeemed, revoked or reached its expiry: the grace period runs from here.
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = OtpQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("patient code")
        verbose_name_plural = _("patient codes")
        indexes = [
            models.Index(fields=["state", "expires_at"]),
            models.Index(fields=["state", "closed_at"]),
            models.Index(fields=["region", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.state}"

    @property
    def reference(self) -> str:
        """How people and the audit trail name a code: its row number, never the code."""
        return f"#{self.pk}"

    @property
    def current_state(self) -> str:
        """The state as people should read it: a pending code past its expiry is expired."""
        if self.state == OtpState.PENDING and self.expires_at <= timezone.now():
            return OtpState.EXPIRED
        return self.state

    def get_current_state_display(self) -> str:
        return str(OtpState(self.current_state).label)

    @property
    def is_usable(self) -> bool:
        return self.current_state == OtpState.PENDING


class ApiKey(models.Model):
    """A credential of one region's health information system, shown once and stored hashed."""

    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(
        "accounts.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    # The first characters of the key, so people can tell their keys apart.
    prefix = models.CharField(_("starts with"), max_length=8)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["region__name", "-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def audit_name(self) -> str:
        return f"API key {self.name} ({self.prefix}…)"
