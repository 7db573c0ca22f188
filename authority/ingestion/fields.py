"""Fields every device request shares, with the rules Immuni's servers applied to them.

Strings are strings (DRF would take the number 12 for the text "12"), flags are the integers
0 and 1, dates are YYYY-MM-DD within Immuni's window, and a province is one of the codes the
apps list, `EX` included.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from authority.accounts.provinces import ProvinceRef, province_by_code
from authority.statistics.models import NATIONAL
from authority.statistics.services import local_day

# Immuni's limit (MAX_PADDING_SIZE): the apps pad every request to `teks_packet_size` bytes,
# 110,000 by default, with lowercase hexadecimal digits.
MAX_PADDING = 150_000
# Immuni's window for dates the apps send (MAX_ISO_DATE_BACKWARD_DIFF)...
MAX_DATE_AGE_DAYS = 180
# ... and ours ahead: a phone's day may already be tomorrow where the server's is today.
MAX_DATE_AHEAD_DAYS = 1
# The apps' code for a user who lives abroad: counted nationally, in no region (OWNERS.md).
ABROAD = "EX"

_PADDING = re.compile(r"^[a-f0-9]*$")
_PROVINCE = re.compile(r"^[A-Z]{2}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class StrictCharField(serializers.CharField):
    """Text, and only text: numbers and booleans are type errors, as in Immuni."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class PaddingField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            allow_blank=True,
            max_length=MAX_PADDING,
            trim_whitespace=False,
            help_text="Lowercase hexadecimal digits that make every request the same size.",
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not _PADDING.match(value):
            raise serializers.ValidationError(_("Padding must be lowercase hexadecimal digits."))
        return value


class PaddedRequestSerializer(serializers.Serializer[dict[str, object]]):
    """Every body may carry `padding` so that request sizes say nothing (DESIGN.md 7)."""

    padding = PaddingField()


def reported_province(code: str) -> ProvinceRef | None:
    """What a province code the apps send stands for; `EX` (abroad) belongs to no region."""
    if code == ABROAD:
        return ProvinceRef(ABROAD, NATIONAL)
    return province_by_code(code)


@extend_schema_field(
    {
        "type": "string",
        "pattern": _PROVINCE.pattern,
        "description": "The province's two-letter code as the apps list it; EX: abroad.",
    }
)
class ProvinceField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        # No length validators: they would run on the ProvinceRef returned (the regex checks).
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> ProvinceRef:  # type: ignore[override]
        code = super().to_internal_value(data)
        if not _PROVINCE.match(code):
            raise serializers.ValidationError(_("A province is two capital letters."))
        province = reported_province(code)
        if province is None:
            raise serializers.ValidationError(_("Unknown province."))
        return province

    def to_representation(self, value: Any) -> str:
        return value.code if isinstance(value, ProvinceRef) else str(value)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 1})
class FlagField(serializers.Field[bool, object, int, object]):
    """0 or 1, as the apps send their switches: not true, not "1", not 1.0."""

    default_error_messages = {"invalid": _("Must be the integer 0 or 1.")}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool) or not isinstance(data, int) or data not in (0, 1):
            self.fail("invalid")
        return bool(data)

    def to_representation(self, value: Any) -> int:
        return int(value)


@extend_schema_field(OpenApiTypes.DATE)
class RecentDateField(serializers.Field[date, object, str, object]):
    """A day as YYYY-MM-DD, neither after tomorrow nor more than 180 days ago."""

    default_error_messages = {
        "invalid": _("A date is written YYYY-MM-DD."),
        "future": _("This date is in the future."),
        "too_old": _("This date is more than %(days)s days ago."),
    }

    def to_internal_value(self, data: Any) -> date:
        if not isinstance(data, str) or not _ISO_DATE.match(data):
            self.fail("invalid")
        try:
            day = date.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        today = local_day()
        if day > today + timedelta(days=MAX_DATE_AHEAD_DAYS):
            self.fail("future")
        if day < today - timedelta(days=MAX_DATE_AGE_DAYS):
            raise serializers.ValidationError(
                self.error_messages["too_old"] % {"days": MAX_DATE_AGE_DAYS}
            )
        return day

    def to_representation(self, value: date) -> str:
        return value.isoformat()


class Base64Field(StrictCharField):
    """A base64 string of at most `max_length` characters, kept as sent; `encoded_length`
    pins its length exactly (as Immuni did for the Android salt)."""

    def __init__(self, *, encoded_length: int | None = None, **kwargs: Any) -> None:
        self.encoded_length = encoded_length
        if encoded_length is not None:
            kwargs.update(min_length=encoded_length, max_length=encoded_length)
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(_("Not valid base64.")) from None
        return text
