"""The append-only, keyed-hash-chained record of security-relevant actions."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from authority.audit.chain import GENESIS_LINK, LEGACY_KEY_ID, Keyring, legacy_link, links_match

# The name older code and migrations use for the link before the first entry.
GENESIS_HASH = GENESIS_LINK


class Action(models.TextChoices):
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOGIN_LOCKED_OUT = "login_locked_out", _("Locked out after repeated failures")
    LOGOUT = "logout", _("Logged out")
    SECOND_FACTOR_FAILED = "second_factor_failed", _("Second factor rejected")
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", _("Second factor enrolled")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Second factor reset")
    BACKUP_CODES_GENERATED = "backup_codes_generated", _("Backup codes generated")
    BACKUP_CODE_USED = "backup_code_used", _("Backup code used")
    USER_CREATED = "user_created", _("User created")
    USER_CHANGED = "user_changed", _("User changed")
    USER_DEACTIVATED = "user_deactivated", _("User deactivated")
    USER_REACTIVATED = "user_reactivated", _("User reactivated")
    LOGIN_UNLOCKED = "login_unlocked", _("Login lockout lifted")
    PASSWORD_SET = "password_set", _("Password set")
    OTP_ISSUED = "otp_issued", _("Code issued")
    OTP_AUTHORIZED = "otp_authorized", _("Code authorized")
    OTP_REVOKED = "otp_revoked", _("Code revoked")
    OTP_QUOTA_REACHED = "otp_quota_reached", _("Code quota reached")
    API_KEY_CREATED = "api_key_created", _("API key created")
    API_KEY_REVOKED = "api_key_revoked", _("API key revoked")
    PUBLICATION_STARTED = "publication_started", _("Publication started")
    PUBLICATION_FINISHED = "publication_finished", _("Publication finished")
    SIGNING_KEY_CREATED = "signing_key_created", _("Signing key created")
    SIGNING_KEY_ROTATED = "signing_key_rotated", _("Signing key rotated")
    SIGNING_KEY_RETIRED = "signing_key_retired", _("Signing key retired")
    SIGNING_KEYS_REENCRYPTED = "signing_keys_reencrypted", _("Signing keys re-encrypted")
    REGION_CHANGED = "region_changed", _("Region changed")
    AUDIT_KEY_CHANGED = "audit_key_changed", _("Audit trail key changed")
    AUDIT_RESTORE_ACKNOWLEDGED = (
        "audit_restore_acknowledged",
        _("Restore of the trail acknowledged"),
    )
    # The European gateway (authority/federation): "Sync now", and every upload or download run.
    FEDERATION_SYNC_REQUESTED = "federation_sync_requested", _("Federation sync requested")
    FEDERATION_RUN_FINISHED = "federation_run_finished", _("Federation run finished")
    APP_SETTINGS_PUBLISHED = "app_settings_published", _("App settings published")
    APP_SETTINGS_ROLLED_BACK = "app_settings_rolled_back", _("App settings rolled back")
    APP_SETTINGS_CANCELLED = "app_settings_cancelled", _("Scheduled app settings cancelled")
    AUDIT_GAP_ACKNOWLEDGED = "audit_gap_acknowledged", _("Checkpoint gap acknowledged")


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")


class AuditEntry(models.Model):
    """One action. `entry_hash` is its link: HMAC-SHA256 (under the AUDIT_HMAC_KEY that
    `key_id` names) of its fields, its position and the previous entry's link; entries from
    before the chain was keyed have a plain SHA-256 link, no key id and no stored position.
    authority/audit/chain.py computes links, authority/audit/verification.py checks them."""

    created_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept as text too, so the chain can be re-hashed without joins and survives renames.
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    region = models.ForeignKey(
        "accounts.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    target = models.CharField(_("subject"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    # 1 for the first entry of the trail. Covered by the link, so a gap names what is missing.
    position = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    # The database default lets a process of the previous release (which knows no key) still
    # write during an upgrade; the verification then reports its entries as made without the key.
    key_id = models.CharField(max_length=16, blank=True, default="", db_default="")

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")

    @property
    def is_keyed(self) -> bool:
        return self.key_id != LEGACY_KEY_ID

    def link_verifies(self, keyring: Keyring) -> bool:
        """Whether the link is the one its key makes of its content (for an entry from before
        the chain was keyed: the plain SHA-256 one, which anyone can make). False under a key
        the keyring does not hold."""
        if not self.is_keyed:
            return links_match(legacy_link(self.link_fields()), self.entry_hash)
        key = keyring.get(self.key_id)
        return key is not None and links_match(key.link(self.link_fields()), self.entry_hash)

    def link_fields(self) -> dict[str, Any]:
        """What the link covers. Keyed entries add their position, key and actor id, and
        write their time in UTC so the link does not depend on the database's time zone."""
        if not self.is_keyed:
            return {
                "previous": self.previous_hash,
                "time": self.created_at.isoformat(),
                "actor": self.actor_username,
                "action": self.action,
                "region": self.region_id,
                "target": self.target,
                "details": self.details,
            }
        return {
            "position": self.position,
            "previous": self.previous_hash,
            "time": self.created_at.astimezone(UTC).isoformat(),
            "actor": self.actor_username,
            "actor_id": self.actor_id,
            "action": self.action,
            "region": self.region_id,
            "target": self.target,
            "details": self.details,
            "key": self.key_id,
        }


class AuditChainHead(models.Model):
    """A single row locked while appending, so concurrent writers extend the chain in turn.
    It remembers the newest entry's link, position and key, so that removed newest entries
    leave a gap the next entry's position and link still show."""

    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    length = models.PositiveBigIntegerField(default=0)
    key_id = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return self.last_hash
