"""Request bodies of the apps' operational info (DESIGN.md 7), with each platform's attestation."""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from authority.accounts.provinces import ProvinceRef, province_by_code
from authority.ingestion.serializers import PaddedRequestSerializer
from authority.statistics.services import local_day

# Exposures older than this are of no interest: the app keeps 14 days of keys.
MAX_EXPOSURE_AGE_DAYS = 60
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class FlagField(serializers.IntegerField):
    """0 or 1, as the app sends its switches."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=0, max_value=1, **kwargs)


class Base64Field(serializers.CharField):
    """A base64 string that decodes to `min_bytes`..`max_bytes` bytes (kept as the string)."""

    def __init__(self, *, min_bytes: int, max_bytes: int, **kwargs: Any) -> None:
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        super().__init__(max_length=(max_bytes + 2) // 3 * 4, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            raw = b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(_("Not valid base64.")) from None
        if not self.min_bytes <= len(raw) <= self.max_bytes:
            raise serializers.ValidationError(
                _("Expected %(min)s to %(max)s bytes.")
                % {"min": self.min_bytes, "max": self.max_bytes}
            )
        return text


class OperationalInfoSerializer(PaddedRequestSerializer):
    province = serializers.CharField(min_length=2, max_length=2)
    exposure_permission = FlagField()
    bluetooth_active = FlagField()
    notification_permission = FlagField()
    exposure_notification = FlagField()
    last_risky_exposure_on = serializers.DateField(required=False, allow_null=True)
    build = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)

    def validate_province(self, value: str) -> ProvinceRef:
        province = province_by_code(value)
        if province is None:
            raise serializers.ValidationError(_("Unknown province."))
        return province

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        exposure_on = attrs.get("last_risky_exposure_on")
        if attrs["exposure_notification"]:
            if exposure_on is None:
                raise serializers.ValidationError(
                    {"last_risky_exposure_on": _("Required when exposure_notification is 1.")}
                )
            # A day of slack for phones whose clock or time zone is ahead.
            today = local_day()
            if exposure_on > today + timedelta(days=1):
                raise serializers.ValidationError(
                    {"last_risky_exposure_on": _("This date is in the future.")}
                )
            if exposure_on < today - timedelta(days=MAX_EXPOSURE_AGE_DAYS):
                raise serializers.ValidationError(
                    {"last_risky_exposure_on": _("This date is too long ago.")}
                )
        else:
            attrs["last_risky_exposure_on"] = None
        return attrs


class GoogleOperationalInfoSerializer(OperationalInfoSerializer):
    """Android: a random salt and the Play Integrity (formerly SafetyNet) attestation, a JWS
    whose nonce binds it to this report (attestation.expected_nonce)."""

    salt = Base64Field(min_bytes=16, max_bytes=64)
    signed_attestation = serializers.CharField(max_length=20_000)

    def validate_signed_attestation(self, value: str) -> str:
        if not _JWS.match(value):
            raise serializers.ValidationError(_("Not a signed attestation (JWS)."))
        return value


class AppleOperationalInfoSerializer(OperationalInfoSerializer):
    """iOS: a DeviceCheck token (base64), which the server can ask Apple about."""

    device_token = Base64Field(min_bytes=16, max_bytes=8_192)
