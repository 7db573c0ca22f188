"""The settings document as the shipped apps parse it, as JSON Schemas written from their
models, not from our catalogue (so that a mistake there shows here):

- Android, `ConfigurationSettings` and `ExposureConfiguration` in immuni-app-android
  `app/src/main/java/it/ministerodellasalute/immuni/api/services/ConfigurationSettingsService.kt`
  (Moshi codegen: a non-null property without a default is required; `Int` is 32-bit; a
  property with a default may be absent but not null);
- iOS, `Configuration` and `Configuration.ExposureDetectionConfiguration` in immuni-app-ios
  `Modules/Models/Configuration.swift` (synthesized Codable: every non-optional property is
  required; `UInt8` is 0..255; `[String: URL]` values must parse with `URL(string:)`, which in
  apps built before iOS 17 takes RFC 3986 characters only; optionals may be absent or null).

Beyond types, one behaviour of the Android app is a requirement too: it reads `risk_exposure`
and `eudcc_expiration` with the phone's language and `!!`, so every language the app speaks
must be there (and any other phone language the authority lists).
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema

LANGUAGES = ["it", "en", "de", "fr", "es"]  # Android `Language`, iOS `UserLanguage`

INT32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
INT64 = {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
UINT8 = {"type": "integer", "minimum": 0, "maximum": 255}
DOUBLE = {"type": "number"}
STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}


def string_map(values: dict[str, Any] = STRING) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": values}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


URL = {"type": "string", "format": "uri"}  # Swift's URL(string:) fails on what is not one

ANDROID_EXPOSURE_CONFIGURATION = {
    "type": "object",
    "required": [
        "attenuation_thresholds",
        "attenuation_bucket_scores",
        "days_since_last_exposure_bucket_scores",
        "duration_bucket_scores",
        "transmission_risk_bucket_scores",
        "minimum_risk_score",
    ],
    "properties": {
        "attenuation_thresholds": array(INT32),
        "attenuation_bucket_scores": array(INT32),
        "days_since_last_exposure_bucket_scores": array(INT32),
        "duration_bucket_scores": array(INT32),
        "transmission_risk_bucket_scores": array(INT32),
        "minimum_risk_score": INT32,
    },
}

_ANDROID_PROPERTIES: dict[str, Any] = {
    "minimum_build_version": INT32,
    "faq_url": string_map(),
    "tou_url": string_map(),
    "pn_url": string_map(),
    "exposure_configuration": ANDROID_EXPOSURE_CONFIGURATION,
    "service_not_active_notification_period": INT32,
    "onboarding_not_completed_notification_period": INT32,
    "required_update_notification_period": INT32,
    "risk_reminder_notification_period": INT32,
    "exposure_info_minimum_risk_score": INT32,
    "exposure_detection_period": INT32,
    "dummy_teks_average_opportunity_waiting_time": INT32,
    "dummy_teks_average_request_waiting_time": INT32,
    "dummy_teks_request_probabilities": array(DOUBLE),
    "teks_max_summary_count": INT32,
    "teks_max_info_count": INT32,
    "teks_packet_size": INT32,
    "experimental_phase": BOOLEAN,  # default false: may be absent, never null
    "support_phone_closing_time": STRING,
    "support_phone_opening_time": STRING,
    "support_phone": nullable(STRING),
    "support_email": nullable(STRING),
    "reopen_reminder": BOOLEAN,  # default true
    "operational_info_with_exposure_sampling_rate": DOUBLE,
    "operational_info_without_exposure_sampling_rate": DOUBLE,
    "dummy_analytics_waiting_time": INT32,
    "countries": string_map(string_map()),
    "eudcc_expiration": {**string_map(string_map()), "required": LANGUAGES},
    "risk_exposure": {**string_map(), "required": LANGUAGES},
    "eu_dcc_deadlines": string_map(nullable(INT32)),
}
_ANDROID_OPTIONAL = {"experimental_phase", "support_phone", "support_email", "reopen_reminder"}

ANDROID = {
    "type": "object",
    "required": sorted(set(_ANDROID_PROPERTIES) - _ANDROID_OPTIONAL),
    "properties": _ANDROID_PROPERTIES,
}

IOS_EXPOSURE_CONFIGURATION = {
    "type": "object",
    "required": [
        "attenuation_thresholds",
        "attenuation_bucket_scores",
        "attenuation_weight",
        "days_since_last_exposure_bucket_scores",
        "days_since_last_exposure_weight",
        "duration_bucket_scores",
        "duration_weight",
        "transmission_risk_bucket_scores",
        "transmission_risk_weight",
        "minimum_risk_score",
    ],
    "properties": {
        "attenuation_thresholds": array(INT64),
        "attenuation_bucket_scores": array(UINT8),
        "attenuation_weight": DOUBLE,
        "days_since_last_exposure_bucket_scores": array(UINT8),
        "days_since_last_exposure_weight": DOUBLE,
        "duration_bucket_scores": array(UINT8),
        "duration_weight": DOUBLE,
        "transmission_risk_bucket_scores": array(UINT8),
        "transmission_risk_weight": DOUBLE,
        "minimum_risk_score": UINT8,
    },
}

_IOS_PROPERTIES: dict[str, Any] = {
    "countries": string_map(string_map()),
    "allowed_regions_self_upload": array(STRING),
    "minimum_build_version": INT64,
    "service_not_active_notification_period": DOUBLE,
    "onboarding_not_completed_notification_period": DOUBLE,
    "required_update_notification_period": DOUBLE,
    "risk_reminder_notification_period": DOUBLE,
    "exposure_detection_period": DOUBLE,
    "exposure_configuration": IOS_EXPOSURE_CONFIGURATION,
    "exposure_info_minimum_risk_score": INT64,
    "maximum_exposure_detection_waiting_time": DOUBLE,
    "pn_url": string_map(URL),
    "tou_url": string_map(URL),
    "faq_url": string_map(URL),
    "eudcc_expiration": string_map(string_map()),
    "risk_exposure": string_map(),
    "eu_dcc_deadlines": string_map(INT64),  # [String: Int]: no null here
    "operational_info_with_exposure_sampling_rate": DOUBLE,
    "operational_info_without_exposure_sampling_rate": DOUBLE,
    "dummy_analytics_waiting_time": DOUBLE,
    "dummy_teks_average_request_waiting_time": DOUBLE,
    "dummy_teks_request_probabilities": array(DOUBLE),
    "dummy_teks_average_opportunity_waiting_time": DOUBLE,
    "dummy_teks_window_duration": DOUBLE,
    "dummy_teks_average_start_waiting_time": DOUBLE,
    "teks_max_summary_count": INT64,
    "teks_max_info_count": INT64,
    "teks_packet_size": INT64,
    "support_email": nullable(STRING),
    "support_phone": nullable(STRING),
    "support_phone_opening_time": nullable(STRING),
    "support_phone_closing_time": nullable(STRING),
}
_IOS_OPTIONAL = {
    "support_email",
    "support_phone",
    "support_phone_opening_time",
    "support_phone_closing_time",
}

IOS = {
    "type": "object",
    "required": sorted(set(_IOS_PROPERTIES) - _IOS_OPTIONAL),
    "properties": _IOS_PROPERTIES,
}

SCHEMAS = {"android": ANDROID, "ios": IOS}


def _strict_integer(checker: Any, instance: Any) -> bool:
    """Moshi's and Codable's integers: a JSON number written without a fraction. (jsonschema
    would take 12.0 for an integer; json.loads gives a float for it, so this refuses it.)"""
    return type(instance) is int


_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer)
_Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=_TYPES)


_FORMATS = jsonschema.FormatChecker()


# RFC 3986's URI grammar (section 3 and appendix A), for an absolute URI with an authority:
# what the strict URL(string:) of apps built before iOS 17 reads (anything else, a non-ASCII
# letter, "|", "{", a "%" not followed by two hex digits, gives nil).
_PCT = r"%[0-9A-Fa-f]{2}"
_SUB_DELIMS = r"!$&'()*+,;="
_UNRESERVED = r"A-Za-z0-9\-._~"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_RFC3986 = re.compile(
    rf"[A-Za-z][A-Za-z0-9+.-]*://"  # scheme
    rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"  # userinfo
    rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})+"  # reg-name (IP literals left out)
    rf"(?::[0-9]*)?"  # port
    rf"(?:/{_PCHAR}*)*"  # path-abempty
    rf"(?:\?(?:{_PCHAR}|[/?])*)?"  # query
    rf"(?:#(?:{_PCHAR}|[/?])*)?"  # fragment
)


@_FORMATS.checks("uri")
def _is_url(value: object) -> bool:
    """What Foundation's URL(string:) accepts and a phone can open: an RFC 3986 URI with a
    scheme and a host. (jsonschema checks "uri" only with an optional package: checked here
    instead.)"""
    return isinstance(value, str) and _RFC3986.fullmatch(value) is not None


def problems(platform: str, document: Any) -> list[str]:
    """What would make the platform's app refuse `document`, one line each."""
    validator = _Validator(SCHEMAS[platform], format_checker=_FORMATS)
    return sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '(document)'}: {error.message}"
        for error in validator.iter_errors(document)
    )
