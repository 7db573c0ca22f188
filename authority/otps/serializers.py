"""Bodies of the HIS endpoints."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from authority.formats.otp import OtpFormatError, parse_otp
from authority.otps.forms import otp_error_message
from authority.otps.services import validate_onset_date


class OnsetSerializer(serializers.Serializer[dict[str, object]]):
    symptoms_started_on = serializers.DateField(
        help_text="Day the symptoms started, or day of the positive test for patients without"
        " symptoms (YYYY-MM-DD). Not in the future, not older than 14 days (configurable)."
    )

    def validate_symptoms_started_on(self, value: date) -> date:
        try:
            validate_onset_date(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return value


class AuthorizeOtpSerializer(OnsetSerializer):
    otp = serializers.CharField(
        max_length=32, help_text="The 10-character code the patient's app shows."
    )

    def validate_otp(self, value: str) -> str:
        try:
            return parse_otp(value)
        except OtpFormatError as error:
            raise serializers.ValidationError(otp_error_message(value, error)) from None


class IssueOtpSerializer(OnsetSerializer):
    pass


class IssuedOtpSerializer(serializers.Serializer[dict[str, object]]):
    otp = serializers.CharField(help_text="The code, returned this once and never stored.")
    expires_at = serializers.DateTimeField()
