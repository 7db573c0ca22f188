"""Health authorities (regions and their provinces) and the people who work for them."""

from __future__ import annotations

import os
import time
from base64 import b32encode
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from authority.envelope import Envelope


class Region(models.Model):
    """A regional health authority (Italy: 19 regions and 2 autonomous provinces)."""

    code = models.CharField(_("code"), max_length=8, unique=True, help_text=_("ISTAT code"))
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class Province(models.Model):
    """A province as the app reports it: a two-letter code that maps to one region."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="provinces")

    class Meta:
        ordering = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    def clean(self) -> None:
        if not (
            len(self.code) == 2
            and self.code.isascii()
            and self.code.isalpha()
            and self.code.isupper()
        ):
            raise ValidationError({"code": _("A province code is two capital letters.")})


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMINISTRATOR = "administrator", _("Administrator")


class User(AbstractUser):
    """A member of staff. Operators and supervisors belong to one region; administrators to none."""

    # ASCII only: "admin" spelt with a Cyrillic "a" must not stand beside "admin" in the audit trail.
    username = models.CharField(
        _("username"),
        max_length=150,
        unique=True,
        help_text=_("Letters, digits and @/./+/-/_ only."),
        validators=[ASCIIUsernameValidator()],
        error_messages={"unique": _("A user with that username already exists.")},
    )

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.OPERATOR)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="staff",
        null=True,
        blank=True,
    )
    # The language of the e-mails this person receives: chosen at the invitation, then the
    # language of the pages at each login (the one they last chose to read).
    language = models.CharField(
        _("language of e-mails"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="it",
    )
    # When the newest invitation link was made: it works PASSWORD_RESET_TIMEOUT from then,
    # until a password is chosen. Empty for accounts made without one (the admin, demo data).
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="regional_roles_have_a_region",
                condition=models.Q(role="administrator") | models.Q(region__isnull=False),
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.role != Role.ADMINISTRATOR and self.region_id is None:
            raise ValidationError({"region": _("Operators and supervisors belong to a region.")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The Django admin's own permission checks follow the role; nobody sets these by hand.
        self.is_staff = self.is_superuser = self.role == Role.ADMINISTRATOR
        if self.role == Role.ADMINISTRATOR:
            self.region = None
        super().save(*args, **kwargs)

    if TYPE_CHECKING:
        # Added to request.user by django-otp's middleware.
        def is_verified(self) -> bool: ...

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


_BACKUP_CODE_SALT = "authority.accounts.backup-code"


def backup_code_digests(code: str) -> list[str]:
    """Keyed hashes (HMAC-SHA256 under SECRET_KEY, then each fallback key) of a backup code,
    normalized as people type it: spaces dropped, any case."""
    normalized = "".join(code.split()).lower()
    return [
        salted_hmac(_BACKUP_CODE_SALT, normalized, secret=secret, algorithm="sha256").hexdigest()
        for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    ]


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """Single-use backup codes for a lost phone, kept as keyed hashes: a copy of the database
    does not let anyone past the second factor (django-otp's static device keeps them in clear).
    """

    class Meta:
        verbose_name = _("backup codes")
        verbose_name_plural = _("backup codes")

    def __str__(self) -> str:
        # django-otp's would show the stored name, in English ("Backup codes (operator-lazio)").
        return gettext("backup codes of %(username)s") % {"username": self.user.username}

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token: Any) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        used, _by_model = self.codes.filter(digest__in=backup_code_digests(str(token))).delete()
        if used:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment()
        return False


class BackupCode(models.Model):
    """One unused backup code: only its keyed hash."""

    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, db_index=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")

    def __str__(self) -> str:
        return f"backup code {self.pk} of {self.device}"


# The authenticator seeds' own key, derived from the key-encryption key (authority.envelope).
TOTP_SEEDS = Envelope(purpose=b"authority.accounts totp-seed encryption")
TOTP_SEED_BYTES = 20  # 160 bits, as RFC 4226 recommends and django-otp's default


def totp_seed_binding(*, device_id: int, user_id: int) -> bytes:
    """What a sealed seed is bound to: its row and its user (a copy onto another fails)."""
    return f"accounts.totpdevice:{device_id}:user:{user_id}".encode()


class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) whose seed is kept encrypted at rest.

    django-otp's own TOTPDevice keeps the seed in clear (its `key` column) and has no way to
    change that: a copy of the database would give every staff member's codes. This one
    has the same fields and checks a code the same way, but stores only the seed sealed
    under the key-encryption key (authority.envelope), bound to its row and user; it is
    opened in memory to check a code, or to show it once at enrolment. A new device gets a
    random seed when it is first saved. Migration 0007 moved the devices made before it.
    """

    # Not django-otp's default name: the reverse accessor would clash with its TOTPDevice's.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="totp_devices",
        help_text="The user that this device belongs to.",
    )
    encrypted_key = models.BinaryField(editable=False)
    step = models.PositiveSmallIntegerField(default=30, help_text="The time step in seconds.")
    t0 = models.BigIntegerField(
        default=0, help_text="The Unix time at which to begin counting steps."
    )
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(
        default=1, help_text="The number of time steps in the past or future to allow."
    )
    drift = models.SmallIntegerField(
        default=0,
        help_text="The number of time steps the prover is known to deviate from our clock.",
    )
    last_t = models.BigIntegerField(
        default=-1,
        help_text="The time step of the last verified token: the next must be at a higher one.",
    )

    # The seed in clear, in memory only, once opened or made for a new device.
    _seed: bytes | None = None

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    def __str__(self) -> str:
        return gettext("authenticator app of %(username)s") % {"username": self.user.username}

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            # The seal is written when the device is made and changed only by re-encryption
            # (accounts.totp, an UPDATE of that column): a login saving its throttle and
            # last step never writes back a seal it read before a re-encryption.
            kwargs.setdefault("update_fields", _FIELDS_BUT_THE_SEAL)
            super().save(*args, **kwargs)
            return
        if self.encrypted_key:
            super().save(*args, **kwargs)
            return
        # A new device: the seal is bound to the row's id, known once the row is inserted.
        seed = self._seed or os.urandom(TOTP_SEED_BYTES)
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            self.encrypted_key = TOTP_SEEDS.seal(seed, bound_to=self._seed_binding())
            type(self).objects.filter(pk=self.pk).update(encrypted_key=self.encrypted_key)
        self._seed = seed

    @property
    def bin_key(self) -> bytes:
        """The seed, as django-otp's devices name it (opened with the fallbacks too)."""
        if self._seed is None:
            sealed = bytes(self.encrypted_key)
            self._seed = TOTP_SEEDS.open(sealed, bound_to=self._seed_binding()).plaintext
        return self._seed

    def _seed_binding(self) -> bytes:
        return totp_seed_binding(device_id=self.pk, user_id=self.user_id)

    def verify_token(self, token: Any) -> bool:
        """As django-otp's TOTPDevice: within `tolerance` steps, never the same step twice,
        failures throttled."""
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            number = int(token)
        except (TypeError, ValueError):
            self.throttle_increment()
            return False
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        if not totp.verify(number, self.tolerance, self.last_t + 1):
            self.throttle_increment()
            return False
        self.last_t = totp.t()
        if getattr(settings, "OTP_TOTP_SYNC", True):
            self.drift = totp.drift
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1))

    @property
    def config_url(self) -> str:
        """The otpauth:// URI an authenticator app scans (Google's Key URI format)."""
        label = self.user.get_username()
        params = {
            "secret": b32encode(self.bin_key).decode(),
            "algorithm": "SHA1",
            "digits": self.digits,
            "period": self.step,
        }
        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "")).replace(":", "")
        if issuer:
            label = f"{issuer}:{label}"
            params["issuer"] = issuer
        return f"otpauth://totp/{quote(label)}?{urlencode(params, quote_via=quote)}"


_FIELDS_BUT_THE_SEAL = [
    field.name
    for field in TOTPDevice._meta.concrete_fields
    if not field.primary_key and field.name != "encrypted_key"
]
