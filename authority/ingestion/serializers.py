"""Request bodies of check-otp and upload, validated as Immuni's servers did, with the GAEN rules
for keys that DESIGN.md 7 adds (docs/compatibility.md lists every difference).

Keys follow two kinds of rules. What no genuine phone sends (a key that is not 16 bytes, a
period outside 1..144, more than 30 keys, one key twice) refuses the upload: 400, nothing
stored, the code still usable. What a genuine phone may send but must not be published (a key
older than 14 days, one that starts in the future by more than a clock's skew, a second key
for an interval already covered) is left out, and the rest of the upload goes ahead: a
patient cannot change what their phone holds, and refusing the upload would refuse it on
every retry.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode, b64encode
from collections.abc import Callable
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import Field, IntegerField

from authority.ingestion.fields import (
    PaddedRequestSerializer,
    ProvinceField,
    RecentDateField,
    StrictCharField,
)
from authority.ingestion.key_rules import (
    INTERVALS_PER_DAY,
    KeySelection,
    current_interval,
    select_keys,
)

MAX_KEYS = 30
KEY_BYTES = 16
# The apps' own caps on what an upload carries (teks_max_summary_count, teks_max_info_count
# in their configuration, 84 and 600 by default): a settings endpoint must not publish more.
MAX_SUMMARIES = 84
MAX_EXPOSURE_INFOS = 600  # across all the summaries of an upload
# Immuni took any non-negative integer (up to sys.maxsize) for the summaries' figures.
LARGEST_FIGURE = 2**63 - 1
TRANSMISSION_RISK_LEVELS = 8  # 0..8, GAEN v1's levels as Immuni listed them
MAX_COUNTRIES = 27  # Immuni's limit on countries_of_interest
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class Base64KeyField(serializers.CharField):
    """Base64 of exactly 16 bytes -> bytes (for the OpenAPI description of a key)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=64, **kwargs)

    def to_internal_value(self, data: Any) -> bytes:  # type: ignore[override]
        return _key_data(data)

    def to_representation(self, value: Any) -> str:
        return b64encode(value).decode()


# What a key looks like, for the OpenAPI schema; `TeksField` does the validation.
class TemporaryExposureKeySerializer(serializers.Serializer[dict[str, object]]):
    key_data = Base64KeyField()
    rolling_start_number = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    rolling_period = serializers.IntegerField(min_value=1, max_value=INTERVALS_PER_DAY)


_REQUIRED = Field.default_error_messages["required"]
_NULL = Field.default_error_messages["null"]
_NOT_AN_OBJECT = serializers.Serializer.default_error_messages["invalid"]
_NOT_A_LIST = serializers.ListSerializer.default_error_messages["not_a_list"]
_TOO_MANY = serializers.ListSerializer.default_error_messages["max_length"]
_TOO_FEW = serializers.ListSerializer.default_error_messages["min_length"]
_NOT_A_STRING = serializers.CharField.default_error_messages["invalid"]
_NOT_AN_INTEGER = IntegerField.default_error_messages["invalid"]
_AT_LEAST = IntegerField.default_error_messages["min_value"]
_AT_MOST = IntegerField.default_error_messages["max_value"]
_INTEGER_TEXT = re.compile(r"^-?[0-9]{1,19}$")


def _integer(value: object, low: int, high: int) -> int:
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


def _figure(value: Any) -> int:
    return _integer(value, 0, LARGEST_FIGURE)


def _durations(value: Any) -> list[int]:
    """attenuation_durations: three or four figures (seconds in each attenuation bucket)."""
    if not isinstance(value, list):
        raise serializers.ValidationError(_NOT_A_LIST.format(input_type=type(value).__name__))
    if len(value) < 3:
        raise serializers.ValidationError(_TOO_FEW.format(min_length=3))
    if len(value) > 4:
        raise serializers.ValidationError(_TOO_MANY.format(max_length=4))
    return [_figure(item) for item in value]


_RECENT_DATE = RecentDateField()


def _date(value: Any) -> date:
    return _RECENT_DATE.to_internal_value(value)


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


def _rolling_start_number(value: Any) -> int:
    return _integer(value, 0, 2**31 - 1)


Check = Callable[[Any], Any]


def _validate_object(
    item: Any, checks: dict[str, Check], *, optional: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One JSON object of a list: (its validated values, its errors by field, as DRF words
    them). Fields in `optional` may be missing; none may be null."""
    if not isinstance(item, dict):
        message = _NOT_AN_OBJECT.format(datatype=type(item).__name__)
        return {}, {"non_field_errors": [message]}
    values: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    for name, check in checks.items():
        if name not in item:
            if name not in optional:
                errors[name] = [_REQUIRED]
            continue
        if item[name] is None:
            errors[name] = [_NULL]
            continue
        try:
            values[name] = check(item[name])
        except serializers.ValidationError as error:
            errors[name] = _field_errors(error.detail)
    return values, errors


def _field_errors(detail: Any) -> Any:
    """A field's errors as DRF nests them: a list of messages, or a nested list's own shape."""
    return detail if isinstance(detail, list | dict) else [detail]


def validate_key(tek: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """One key of an upload, as GAEN makes them: (its validated values, its errors by field,
    as DRF words them). When it starts is `select_keys`'s business."""
    return _validate_object(
        tek,
        {
            "key_data": _key_data,
            "rolling_start_number": _rolling_start_number,
            "rolling_period": lambda value: _integer(value, 1, INTERVALS_PER_DAY),
        },
    )


def _validate_list(
    data: Any, limit: int, validate_item: Callable[[Any], tuple[dict[str, Any], Any]]
) -> list[dict[str, Any]]:
    """A list of objects, each validated alone; errors keep the nested serializers' shape
    (`teks.3.key_data: ...`)."""
    if not isinstance(data, list):
        message = _NOT_A_LIST.format(input_type=type(data).__name__)
        raise serializers.ValidationError({"non_field_errors": [message]})
    if len(data) > limit:
        raise serializers.ValidationError(
            {"non_field_errors": [_TOO_MANY.format(max_length=limit)]}
        )
    values, errors = [], []
    for item in data:
        value, problems = validate_item(item)
        values.append(value)
        errors.append(problems)
    if any(errors):
        raise serializers.ValidationError(errors)
    return values


@extend_schema_field(TemporaryExposureKeySerializer(many=True, max_length=MAX_KEYS))  # type: ignore[call-arg]
class TeksField(Field[list[dict[str, Any]], object, list[dict[str, Any]], object]):
    """The list of keys, validated by plain functions: as nested serializers (one per key,
    each copying its fields) they cost more CPU than the rest of an upload together."""

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        return _validate_list(data, MAX_KEYS, validate_key)


def _exposure_info(item: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return _validate_object(
        item,
        {
            "date": _date,
            "duration": _figure,
            "attenuation_value": _figure,
            "attenuation_durations": _durations,
            "transmission_risk_level": lambda value: _integer(value, 0, TRANSMISSION_RISK_LEVELS),
            "total_risk_score": _figure,
        },
    )


def _exposure_infos(value: Any) -> list[dict[str, Any]]:
    return _validate_list(value, MAX_EXPOSURE_INFOS, _exposure_info)


def _summary(item: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return _validate_object(
        item,
        {
            "date": _date,
            "matched_key_count": _figure,
            "days_since_last_exposure": _figure,
            "attenuation_durations": _durations,
            "maximum_risk_score": _figure,
            "exposure_info": _exposure_infos,
        },
        optional=frozenset({"exposure_info"}),
    )


# What a summary looks like, for the OpenAPI schema; `SummariesField` does the validation.
class ExposureInfoSerializer(serializers.Serializer[dict[str, object]]):
    date = serializers.DateField()
    duration = serializers.IntegerField(min_value=0, max_value=LARGEST_FIGURE)
    attenuation_value = serializers.IntegerField(min_value=0, max_value=LARGEST_FIGURE)
    attenuation_durations = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=LARGEST_FIGURE),
        min_length=3,
        max_length=4,
    )
    transmission_risk_level = serializers.IntegerField(
        min_value=0, max_value=TRANSMISSION_RISK_LEVELS
    )
    total_risk_score = serializers.IntegerField(min_value=0, max_value=LARGEST_FIGURE)


class ExposureDetectionSummarySerializer(serializers.Serializer[dict[str, object]]):
    date = serializers.DateField()
    matched_key_count = serializers.IntegerField(min_value=0, max_value=LARGEST_FIGURE)
    days_since_last_exposure = serializers.IntegerField(min_value=0, max_value=LARGEST_FIGURE)
    attenuation_durations = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=LARGEST_FIGURE),
        min_length=3,
        max_length=4,
    )
    maximum_risk_score = serializers.IntegerField(min_value=0, max_value=LARGEST_FIGURE)
    exposure_info = ExposureInfoSerializer(many=True, required=False)


@extend_schema_field(ExposureDetectionSummarySerializer(many=True, max_length=MAX_SUMMARIES))  # type: ignore[call-arg]
class SummariesField(Field[list[dict[str, Any]], object, list[dict[str, Any]], object]):
    """The exposure detection summaries (may be empty), validated like the keys: by plain
    functions, each error named (`exposure_detection_summaries.0.date: ...`)."""

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        summaries = _validate_list(data, MAX_SUMMARIES, _summary)
        infos = sum(len(summary.get("exposure_info", ())) for summary in summaries)
        if infos > MAX_EXPOSURE_INFOS:
            raise serializers.ValidationError(
                _("At most %(count)s exposures in all the summaries together.")
                % {"count": MAX_EXPOSURE_INFOS}
            )
        return summaries


class CountryField(StrictCharField):
    def to_internal_value(self, data: Any) -> str:
        code = super().to_internal_value(data)
        if not _COUNTRY.match(code):
            raise serializers.ValidationError(_("A country is two capital letters."))
        return code


class CheckOtpRequestSerializer(PaddedRequestSerializer):
    pass


class UploadRequestSerializer(PaddedRequestSerializer):
    province = ProvinceField()
    teks = TeksField()
    exposure_detection_summaries = SummariesField()
    countries_of_interest = serializers.ListField(
        child=CountryField(), required=False, allow_null=True, max_length=MAX_COUNTRIES
    )

    def validate_teks(self, teks: list[dict[str, Any]]) -> KeySelection:
        # GAEN never hands out one key twice: a client that sends it has a bug to fix.
        if len({tek["key_data"] for tek in teks}) != len(teks):
            raise serializers.ValidationError(_("The same key appears twice."))
        return select_keys(teks, now=current_interval())
