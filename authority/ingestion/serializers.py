"""Request bodies of the device API, validated like Immuni did, with the GAEN rules for keys."""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from authority.accounts.models import Province

MAX_KEYS = 30
KEY_BYTES = 16
INTERVAL_SECONDS = 600
INTERVALS_PER_DAY = 144
MAX_KEY_AGE_DAYS = 14
MAX_PADDING = 100_000  # characters; the app pads requests to a uniform size
_HEX = re.compile(r"^[0-9a-fA-F]*$")


def current_interval() -> int:
    return int(timezone.now().timestamp()) // INTERVAL_SECONDS


class PaddedRequestSerializer(serializers.Serializer):
    """Every body may carry `padding` (hex) so that request sizes say nothing."""

    padding = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_PADDING, trim_whitespace=False
    )

    def validate_padding(self, value: str) -> str:
        if not _HEX.match(value):
            raise serializers.ValidationError(_("Padding must be a hexadecimal string."))
        return value


class CheckOtpRequestSerializer(PaddedRequestSerializer):
    pass


class Base64KeyField(serializers.CharField):
    """Base64 of exactly 16 bytes -> bytes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, **kwargs)

    def to_internal_value(self, data: Any) -> bytes:  # type: ignore[override]
        text = super().to_internal_value(data)
        try:
            raw = b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(_("Not valid base64.")) from None
        if len(raw) != KEY_BYTES:
            raise serializers.ValidationError(
                _("A key is exactly 16 bytes (24 base64 characters).")
            )
        return raw

    def to_representation(self, value: Any) -> str:
        from base64 import b64encode

        return b64encode(value).decode()


class TemporaryExposureKeySerializer(serializers.Serializer):
    key_data = Base64KeyField()
    rolling_start_number = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    rolling_period = serializers.IntegerField(min_value=1, max_value=INTERVALS_PER_DAY)

    def validate_rolling_start_number(self, value: int) -> int:
        now = current_interval()
        if value > now:
            raise serializers.ValidationError(_("This key starts in the future."))
        oldest = (now // INTERVALS_PER_DAY - MAX_KEY_AGE_DAYS) * INTERVALS_PER_DAY
        if value < oldest:
            raise serializers.ValidationError(_("This key is older than 14 days."))
        return value


class ExposureInfoSerializer(serializers.Serializer):
    date = serializers.DateField()
    duration = serializers.IntegerField(min_value=0, max_value=24 * 60 * 60)
    attenuation_value = serializers.IntegerField(min_value=0, max_value=255)
    attenuation_durations = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=24 * 60 * 60),
        min_length=3,
        max_length=4,
    )
    transmission_risk_level = serializers.IntegerField(min_value=0, max_value=8)
    total_risk_score = serializers.IntegerField(min_value=0, max_value=4096)


class ExposureDetectionSummarySerializer(serializers.Serializer):
    date = serializers.DateField()
    matched_key_count = serializers.IntegerField(min_value=0, max_value=10_000)
    days_since_last_exposure = serializers.IntegerField(min_value=0, max_value=365)
    attenuation_durations = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=24 * 60 * 60),
        min_length=3,
        max_length=4,
    )
    maximum_risk_score = serializers.IntegerField(min_value=0, max_value=4096)
    exposure_info = ExposureInfoSerializer(many=True, required=False, max_length=100)  # type: ignore[call-arg]


class UploadRequestSerializer(PaddedRequestSerializer):
    province = serializers.CharField(min_length=2, max_length=2)
    teks = TemporaryExposureKeySerializer(many=True, max_length=MAX_KEYS)  # type: ignore[call-arg]
    exposure_detection_summaries = ExposureDetectionSummarySerializer(many=True, max_length=100)  # type: ignore[call-arg]
    countries_of_interest = serializers.ListField(
        child=serializers.RegexField(r"^[A-Z]{2}$"), required=False, max_length=50
    )

    def validate_province(self, value: str) -> Province:
        province = Province.objects.select_related("region").filter(code=value.upper()).first()
        if province is None:
            raise serializers.ValidationError(_("Unknown province."))
        return province

    def validate_teks(self, teks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len({tek["key_data"] for tek in teks}) != len(teks):
            raise serializers.ValidationError(_("The same key appears twice."))
        if len({tek["rolling_start_number"] for tek in teks}) != len(teks):
            raise serializers.ValidationError(_("Two keys cover the same interval."))
        return teks
