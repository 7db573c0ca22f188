"""Request bodies of the apps' operational info and of the iOS token, with Immuni's rules."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from authority.ingestion.fields import (
    Base64Field,
    FlagField,
    PaddedRequestSerializer,
    ProvinceField,
    RecentDateField,
    StrictCharField,
)

# The apps' build numbers. Immuni capped them with MAX_ALLOWED_BUILD, an environment variable
# whose default, 20,000, fits the iOS app's CFBundleVersion but no Android build: the Android
# app sends its versionCode, major*1,000,000 + minor*100,000 + patch*10,000 + the CI build
# number (2,6xx,xxx for 2.6.0; immuni-app-android build.gradle). Android's bound is Google
# Play's largest versionCode. docs/compatibility.md lists this as a deliberate difference.
MAX_IOS_BUILD = 20_000
MAX_ANDROID_BUILD = 2_100_000_000
# Immuni's other limits: the Android salt (16 random bytes, 24 base64 characters), the
# attestation and the DeviceCheck token.
SALT_CHARACTERS = 24
MAX_SIGNED_ATTESTATION = 10_000
MAX_DEVICE_TOKEN = 10_000
ANALYTICS_TOKEN_CHARACTERS = 128
ANALYTICS_TOKEN = re.compile(rf"^[a-f0-9]{{{ANALYTICS_TOKEN_CHARACTERS}}}$")


class StrictIntegerField(serializers.IntegerField):
    """An integer, sent as a JSON number (Immuni refused null, and so do we)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class OperationalInfoSerializer(PaddedRequestSerializer):
    province = ProvinceField()
    exposure_permission = FlagField()
    bluetooth_active = FlagField()
    notification_permission = FlagField()
    exposure_notification = FlagField()
    # Always sent: the day of the last risky exposure, or today when there was none.
    last_risky_exposure_on = RecentDateField()
    build = StrictIntegerField(required=False, min_value=1, max_value=MAX_IOS_BUILD)


class GoogleOperationalInfoSerializer(OperationalInfoSerializer):
    """Android: a random salt and the platform's attestation (SafetyNet's JWS in the Immuni
    app, a Play Integrity token in newer ones) whose nonce binds it to this report
    (attestation.expected_nonce). Its form is the verifier's business, as it was Immuni's."""

    # The app's versionCode (BuildConfig.VERSION_CODE), not the small iOS build number.
    build = StrictIntegerField(required=False, min_value=1, max_value=MAX_ANDROID_BUILD)
    salt = Base64Field(encoded_length=SALT_CHARACTERS)
    signed_attestation = StrictCharField(
        max_length=MAX_SIGNED_ATTESTATION, allow_blank=True, trim_whitespace=False
    )


class AppleOperationalInfoSerializer(OperationalInfoSerializer):
    """iOS: the report only; the app's analytics token comes in the Authorization header."""


class AppleTokenSerializer(PaddedRequestSerializer):
    """iOS: the random token the app will report with, and a DeviceCheck token to vouch for it."""

    analytics_token = StrictCharField(
        min_length=ANALYTICS_TOKEN_CHARACTERS,
        max_length=ANALYTICS_TOKEN_CHARACTERS,
        trim_whitespace=False,
        help_text="128 lowercase hexadecimal digits, random.",
    )
    device_token = Base64Field(max_length=MAX_DEVICE_TOKEN, help_text="A DeviceCheck token.")

    def validate_analytics_token(self, value: str) -> str:
        if not ANALYTICS_TOKEN.match(value):
            raise serializers.ValidationError(_("128 lowercase hexadecimal digits expected."))
        return value
