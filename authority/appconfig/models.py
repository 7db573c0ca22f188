"""Versions of the apps' settings per platform, the draft being edited, and the generation
number that tells every web process a published change is there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    ANDROID = "android", "Android"
    IOS = "ios", "iOS"


class SettingsVersionQuerySet(models.QuerySet["SettingsVersion"]):
    def live(self) -> SettingsVersionQuerySet:
        """Versions that are or will be in force in their turn (not cancelled)."""
        return self.filter(cancelled_at__isnull=True)


class SettingsVersion(models.Model):
    """One published settings document for one platform. Never changed once published (a
    scheduled version may only be cancelled): a correction or a rollback is a new version.

    The version in force at a time is the live one with the latest `activates_at` not after it
    (the higher number when two share it).
    """

    platform = models.CharField(_("platform"), max_length=8, choices=Platform.choices)
    number = models.PositiveIntegerField(_("version"))
    document = models.JSONField(_("settings"))
    # [{"from_build": int | None, "to_build": int | None, "values": {setting: value}}]
    overrides = models.JSONField(_("build overrides"), default=list, blank=True)
    # Declared by the administrators: minimum_build_version may not exceed it.
    newest_build = models.PositiveIntegerField(_("newest build in the stores"), null=True)
    note = models.CharField(_("reason for the change"), max_length=500, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"))
    activates_at = models.DateTimeField(_("in force from"), db_index=True)
    # The version whose settings a rollback restored.
    restores = models.PositiveIntegerField(_("restores version"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = SettingsVersionQuerySet.as_manager()

    class Meta:
        ordering = ["platform", "-number"]
        verbose_name = _("app settings version")
        verbose_name_plural = _("app settings versions")
        constraints = [
            models.UniqueConstraint(fields=["platform", "number"], name="one_number_per_platform")
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} v{self.number}"

    def is_scheduled(self, now: datetime) -> bool:
        return self.cancelled_at is None and self.activates_at > now

    @property
    def content(self) -> dict[str, Any]:
        """What a diff compares: everything that reaches phones or guards what does."""
        return {
            "document": self.document,
            "overrides": self.overrides,
            "newest_build": self.newest_build,
        }


class SettingsDraft(models.Model):
    """The next version of one platform's settings, shared by the administrators editing it.

    `revision` grows with every save: a save or a publication names the revision it was made
    from, and is refused when another administrator saved in between (nothing is overwritten
    silently).
    """

    platform = models.CharField(_("platform"), max_length=8, choices=Platform.choices, unique=True)
    document = models.JSONField(_("settings"))
    overrides = models.JSONField(_("build overrides"), default=list, blank=True)
    newest_build = models.PositiveIntegerField(_("newest build in the stores"), null=True)
    based_on = models.PositiveIntegerField(_("based on version"), null=True)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last saved by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("last saved at"))

    class Meta:
        verbose_name = _("app settings draft")
        verbose_name_plural = _("app settings drafts")

    def __str__(self) -> str:
        return f"{self.get_platform_display()} draft r{self.revision}"

    @property
    def content(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "overrides": self.overrides,
            "newest_build": self.newest_build,
        }


class SettingsGeneration(models.Model):
    """One row whose number grows with every publication, rollback or cancellation, in the
    same transaction: web processes compare it with the one their cached settings were built
    from (authority.appconfig.serving). Its lock also serializes the writers."""

    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("app settings generation")

    def __str__(self) -> str:
        return str(self.value)
