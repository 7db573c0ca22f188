"""Request bodies of the device API, validated like Immuni did, with the GAEN rules for keys."""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from itertools import pairwise
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import Field, IntegerField

from authority.accounts.provinces import ProvinceRef, province_by_code

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


# What a key looks like, for the OpenAPI schema; `TeksField` does the validation.
class TemporaryExposureKeySerializer(serializers.Serializer):
    key_data = Base64KeyField()
    rolling_start_number = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    rolling_period = serializers.IntegerField(min_value=1, max_value=INTERVALS_PER_DAY)


_REQUIRED = Field.default_error_messages["required"]
_NOT_AN_OBJECT = serializers.Serializer.default_error_messages["invalid"]
_NOT_A_LIST = serializers.ListSerializer.default_error_messages["not_a_list"]
_TOO_MANY = serializers.ListSerializer.default_error_messages["max_length"]
_NOT_A_STRING = serializers.CharField.default_error_messages["invalid"]
_NOT_AN_INTEGER = IntegerField.default_error_messages["invalid"]
_AT_LEAST = IntegerField.default_error_messages["min_value"]
_AT_MOST = IntegerField.default_error_messages["max_value"]
_INTEGER_TEXT = re.compile(r"^-?[0-9]{1,12}$")


def _integer(value: Any, low: int, high: int) -> int:
    """DRF's IntegerField rules (ints, or their decimal text), without a field per value."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise serializers.ValidationError(_NOT_AN_INTEGER)
    if isinstance(value, str):
        if not _INTEGER_TEXT.match(value.strip()):
            raise serializers.ValidationError(_NOT_AN_INTEGER)
        value = int(value)
    if value < low:
        raise serializers.ValidationError(_AT_LEAST.format(min_value=low))
    if value > high:
        raise serializers.ValidationError(_AT_MOST.format(max_value=high))
    return value


def _key_data(value: Any) -> bytes:
    if not isinstance(value, str):
        raise serializers.ValidationError(_NOT_A_STRING)
    try:
        raw = b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise serializers.ValidationError(_("Not valid base64.")) from None
    if len(raw) != KEY_BYTES:
        raise serializers.ValidationError(_("A key is exactly 16 bytes (24 base64 characters)."))
    return raw


def _rolling_start_number(value: Any, now: int) -> int:
    value = _integer(value, 0, 2**31 - 1)
    if value > now:
        raise serializers.ValidationError(_("This key starts in the future."))
    oldest = (now // INTERVALS_PER_DAY - MAX_KEY_AGE_DAYS) * INTERVALS_PER_DAY
    if value < oldest:
        raise serializers.ValidationError(_("This key is older than 14 days."))
    return value


def validate_key(tek: Any, now: int) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """One key of an upload: (its validated values, its errors by field, as DRF words them)."""
    if not isinstance(tek, dict):
        message = _NOT_AN_OBJECT.format(datatype=type(tek).__name__)
        return {}, {"non_field_errors": [message]}
    checks = {
        "key_data": _key_data,
        "rolling_start_number": lambda value: _rolling_start_number(value, now),
        "rolling_period": lambda value: _integer(value, 1, INTERVALS_PER_DAY),
    }
    values: dict[str, Any] = {}
    errors: dict[str, list[Any]] = {}
    for name, check in checks.items():
        if name not in tek:
            errors[name] = [_REQUIRED]
            continue
        try:
            values[name] = check(tek[name])
        except serializers.ValidationError as error:
            errors[name] = list(error.detail)  # type: ignore[arg-type]
    return values, errors


@extend_schema_field(TemporaryExposureKeySerializer(many=True, max_length=MAX_KEYS))  # type: ignore[call-arg]
class TeksField(Field):
    """The list of keys, validated by plain functions: as nested serializers (one per key,
    each copying its fields) they cost more CPU than the rest of an upload together.
    Errors keep the nested serializers' shape (`teks.3.key_data: ...`)."""

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            message = _NOT_A_LIST.format(input_type=type(data).__name__)
            raise serializers.ValidationError({"non_field_errors": [message]})
        if len(data) > MAX_KEYS:
            raise serializers.ValidationError(
                {"non_field_errors": [_TOO_MANY.format(max_length=MAX_KEYS)]}
            )
        now = current_interval()
        keys, errors = [], []
        for tek in data:
            values, problems = validate_key(tek, now)
            keys.append(values)
            errors.append(problems)
        if any(errors):
            raise serializers.ValidationError(errors)
        return keys


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
    teks = TeksField()
    exposure_detection_summaries = ExposureDetectionSummarySerializer(many=True, max_length=100)  # type: ignore[call-arg]
    countries_of_interest = serializers.ListField(
        child=serializers.RegexField(r"^[A-Z]{2}$"), required=False, max_length=50
    )

    def validate_province(self, value: str) -> ProvinceRef:
        province = province_by_code(value)
        if province is None:
            raise serializers.ValidationError(_("Unknown province."))
        return province

    def validate_teks(self, teks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len({tek["key_data"] for tek in teks}) != len(teks):
            raise serializers.ValidationError(_("The same key appears twice."))
        if len({tek["rolling_start_number"] for tek in teks}) != len(teks):
            raise serializers.ValidationError(_("Two keys cover the same interval."))
        if _intervals_overlap(teks):
            raise serializers.ValidationError(_("The intervals of two keys overlap."))
        return teks


def _intervals_overlap(teks: list[dict[str, Any]]) -> bool:
    """Whether two keys' [start, start + period) intervals share an interval (GAEN: a phone has
    one key at a time). Sorted by start, an overlap always shows between neighbours."""
    spans = sorted((tek["rolling_start_number"], tek["rolling_period"]) for tek in teks)
    return any(start + period > later for (start, period), (later, _period) in pairwise(spans))
