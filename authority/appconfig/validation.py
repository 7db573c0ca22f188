"""What the back office refuses to publish: anything the apps would fail to parse, and values
that would break or mislead phones (GAEN v1's ranges, thresholds out of order, a packet size or
upload caps above what the device API accepts, a minimum build no phone has).

Every rule is checked on the settings document itself, whoever produced it (the form, a build
override, a rollback, a data migration), and each problem names the setting it concerns, so the
form can show it beside its field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _

from authority.appconfig import builds
from authority.appconfig.catalogue import (
    ANDROID_INT_MAX,
    BY_KEY,
    LANGUAGES,
    MAX_BUILD,
    Kind,
    Setting,
    settings_for,
)
from authority.appconfig.risk import BUCKETS, LEVEL_VALUE_MAX

_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_HOUR = re.compile(r"^([0-9]{1,2})(?::([0-9]{2}))?$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ]{2,19}$")
MAX_TEXT = 5000
MAX_SHORT_TEXT = 200
MAX_URL = 2000


@dataclass(frozen=True)
class Problem:
    """One refused value: `key` is the setting's (catalogue key), or "" for the whole draft."""

    key: str
    message: str


@dataclass(frozen=True)
class Limits:
    """What the checks need beyond the document: the newest app build released (declared with
    the draft; None when not declared), and the minimum build in force (which, without a
    declared newest build, cannot be raised)."""

    newest_build: int | None = None
    minimum_build_in_force: int | None = None


def document_problems(
    platform: str, document: dict[str, Any], *, limits: Limits | None = None
) -> list[Problem]:
    """Every problem of one settings document as served to `platform`'s app."""
    limits = limits or Limits()
    if not isinstance(document, dict):
        return [Problem("", _("A settings document is a JSON object."))]
    problems: list[Problem] = []
    known = settings_for(platform)
    for setting in known:
        try:
            value = _read(document, setting)
        except KeyError:
            problems.append(
                Problem(setting.key, _("Missing: the app cannot start without this setting."))
            )
            continue
        for message in _value_problems(setting, platform, value):
            problems.append(Problem(setting.key, message))
    problems.extend(_unknown(document, known))
    if not problems:
        problems.extend(_across_settings(platform, document, limits))
    return problems


def overrides_problems(
    platform: str,
    document: dict[str, Any],
    overrides: list[dict[str, Any]],
    *,
    limits: Limits | None = None,
) -> list[tuple[builds.Segment | None, Problem]]:
    """Problems of the overrides themselves (segment None), then of each range of builds'
    served document (the base's own problems are the caller's to show)."""
    found: list[tuple[builds.Segment | None, Problem]] = []
    top_level = {setting.top_level for setting in settings_for(platform)}
    for number, override in enumerate(overrides, start=1):
        for message in override_shape_problems(override, top_level):
            found.append(
                (
                    None,
                    Problem(
                        "", _("Override %(n)s: %(problem)s") % {"n": number, "problem": message}
                    ),
                )
            )
    if found:
        return found
    base = {(p.key, p.message) for p in document_problems(platform, document, limits=limits)}
    for segment in builds.segments(document, overrides):
        for problem in document_problems(platform, segment.document, limits=limits):
            if (problem.key, problem.message) not in base:
                found.append((segment, problem))
    return found


def override_shape_problems(override: dict[str, Any], top_level: set[str]) -> list[str]:
    problems = []
    low, high = override.get("from_build"), override.get("to_build")
    for value in (low, high):
        if value is not None and (type(value) is not int or not 1 <= value <= MAX_BUILD):
            problems.append(_("a build is a number from 1 to %(max)s.") % {"max": MAX_BUILD})
    if low is None and high is None:
        problems.append(_("give the first build, the last build, or both."))
    elif not problems and low is not None and high is not None and low > high:
        problems.append(_("the first build is after the last one."))
    values = override.get("values")
    if not isinstance(values, dict) or not values:
        problems.append(_("it changes no setting."))
    else:
        unknown = sorted(set(values) - top_level)
        if unknown:
            problems.append(
                _("not settings of this app: %(names)s.") % {"names": ", ".join(unknown)}
            )
    return problems


def _read(document: dict[str, Any], setting: Setting) -> Any:
    value: Any = document
    for part in setting.path:
        if not isinstance(value, dict):
            raise KeyError(part)
        value = value[part]
    return value


def _unknown(document: dict[str, Any], known: tuple[Setting, ...]) -> list[Problem]:
    """Keys no app of this platform reads: never served, so that what is published is what
    the pages show."""
    expected: dict[str, set[str]] = {}
    for setting in known:
        expected.setdefault(setting.path[0], set())
        if len(setting.path) > 1:
            expected[setting.path[0]].add(setting.path[1])
    problems = []
    for key, value in document.items():
        if key not in expected:
            problems.append(
                Problem("", _("“%(key)s” is not a setting of this app.") % {"key": key})
            )
        elif expected[key] and isinstance(value, dict):
            for inner in sorted(set(value) - expected[key]):
                problems.append(
                    Problem(
                        "", _("“%(key)s” is not a setting of this app.") % {"key": f"{key}.{inner}"}
                    )
                )
    return problems


# --- One value -------------------------------------------------------------------------------------


def _is_integer(value: Any) -> bool:
    return type(value) is int


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _range_problem(setting: Setting, platform: str, value: float) -> str | None:
    low, high = setting.bounds(platform)
    if low is not None and value < low:
        return _("Must be at least %(min)s.") % {"min": _number(low)}
    if high is not None and value > high:
        if setting.limit_reason:
            return _("Must be at most %(max)s: %(reason)s.") % {
                "max": _number(high),
                "reason": setting.limit_reason,
            }
        return _("Must be at most %(max)s.") % {"max": _number(high)}
    return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _value_problems(setting: Setting, platform: str, value: Any) -> list[str]:
    if value is None:
        return [] if setting.nullable else [_("Cannot be empty: the app needs a value.")]
    check = _CHECKS[setting.kind]
    return check(setting, platform, value)


def _integer(setting: Setting, platform: str, value: Any) -> list[str]:
    if not _is_integer(value):
        return [_("Must be a whole number.")]
    problem = _range_problem(setting, platform, value)
    if problem is None and platform == "android" and value > ANDROID_INT_MAX:
        problem = _("Too large for the Android app.")
    return [problem] if problem else []


def _number_value(setting: Setting, platform: str, value: Any) -> list[str]:
    if not _is_number(value):
        return [_("Must be a number (use a point for decimals).")]
    problem = _range_problem(setting, platform, value)
    return [problem] if problem else []


def _scores(setting: Setting, platform: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) != BUCKETS:
        return [_("Needs exactly 8 scores, one for each range.")]
    if not all(_is_integer(v) and 0 <= v <= LEVEL_VALUE_MAX for v in value):
        return [_("Each score is a whole number from 0 to 8.")]
    if not any(value):
        return [_("All scores are 0: no exposure would ever count.")]
    return []


def _thresholds(setting: Setting, platform: str, value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) != 2 or not all(_is_integer(v) for v in value):
        return [_("Needs two thresholds in dB, whole numbers.")]
    low, high = setting.bounds(platform)
    if not all((low or 0) <= v <= (high or 255) for v in value):
        return [_("Each threshold is from 0 to 255 dB.")]
    if value[0] >= value[1]:
        return [_("The first threshold must be lower than the second.")]
    return []


def _probabilities(setting: Setting, platform: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        return [_("Needs at least one probability.")]
    if setting.max_items and len(value) > setting.max_items:
        return [_("At most %(n)s values.") % {"n": setting.max_items}]
    if not all(_is_number(v) and 0 <= v <= 1 for v in value):
        return [_("Each value is a probability from 0 to 1.")]
    return []


def _language_map(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return [_("Needs one entry per language.")]
    problems = []
    missing = [language for language in LANGUAGES if language not in value]
    if missing:
        problems.append(
            _("Missing for %(languages)s: the app needs every language it speaks.")
            % {"languages": ", ".join(missing)}
        )
    extra = sorted(set(value) - set(LANGUAGES))
    if extra:
        problems.append(_("The apps speak no %(languages)s.") % {"languages": ", ".join(extra)})
    return problems


def _url_map(setting: Setting, platform: str, value: Any) -> list[str]:
    problems = _language_map(value)
    if isinstance(value, dict):
        for language in LANGUAGES:
            address = value.get(language)
            if language in value and not _is_https_url(address):
                problems.append(
                    _("%(language)s: must be a full https:// address.") % {"language": language}
                )
    return problems


def _is_https_url(address: Any) -> bool:
    if not isinstance(address, str) or len(address) > MAX_URL or address != address.strip():
        return False
    if any(c.isspace() for c in address):
        return False
    parts = urlsplit(address)
    return parts.scheme == "https" and bool(parts.hostname) and "." in (parts.hostname or "")


def _text_map(setting: Setting, platform: str, value: Any) -> list[str]:
    problems = _language_map(value)
    if isinstance(value, dict):
        for language in LANGUAGES:
            if language in value and not _is_text(value[language], MAX_TEXT):
                problems.append(
                    _("%(language)s: needs a text of at most %(n)s characters.")
                    % {"language": language, "n": MAX_TEXT}
                )
    return problems


def _is_text(text: Any, longest: int) -> bool:
    return isinstance(text, str) and bool(text.strip()) and len(text) <= longest


def _named_map(setting: Setting, platform: str, value: Any) -> list[str]:
    problems = _language_map(value)
    if not isinstance(value, dict):
        return problems
    countries = setting.key == "countries"
    key_pattern = _COUNTRY_CODE if countries else _NAME
    reference: set[str] | None = None
    for language in LANGUAGES:
        entries = value.get(language)
        if language not in value:
            continue
        if not isinstance(entries, dict) or not entries:
            problems.append(_("%(language)s: needs at least one line.") % {"language": language})
            continue
        bad_keys = [k for k in entries if not key_pattern.match(k)]
        if bad_keys:
            problems.append(
                (
                    _("%(language)s: %(keys)s is not a two-letter country code in capitals.")
                    if countries
                    else _(
                        "%(language)s: %(keys)s is not a name in lowercase letters, digits and _."
                    )
                )
                % {"language": language, "keys": ", ".join(bad_keys)}
            )
        empty = [k for k, text in entries.items() if not _is_text(text, MAX_TEXT)]
        if empty:
            problems.append(
                _("%(language)s: no text for %(keys)s.")
                % {"language": language, "keys": ", ".join(empty)}
            )
        if setting.max_items and len(entries) > setting.max_items:
            reason = f": {setting.limit_reason}" if setting.limit_reason else ""
            problems.append(
                _("%(language)s: at most %(n)s lines%(reason)s.")
                % {"language": language, "n": setting.max_items, "reason": reason}
            )
        if reference is None:
            reference = set(entries)
        elif set(entries) != reference:
            problems.append(
                _("%(language)s lists other codes than %(first)s: every language lists the same.")
                % {"language": language, "first": LANGUAGES[0]}
            )
    return problems


def _number_map(setting: Setting, platform: str, value: Any) -> list[str]:
    if not isinstance(value, dict) or not value:
        return [_("Needs at least one line.")]
    problems = []
    bad_keys = [k for k in value if not _NAME.match(k)]
    if bad_keys:
        problems.append(
            _("%(keys)s is not a name in lowercase letters, digits and _.")
            % {"keys": ", ".join(bad_keys)}
        )
    low, high = setting.bounds(platform)
    bad = [k for k, v in value.items() if not _is_integer(v) or not (low or 0) <= v <= (high or 0)]
    if bad:
        problems.append(
            _("%(keys)s: each value is a whole number from %(min)s to %(max)s.")
            % {"keys": ", ".join(bad), "min": _number(low or 0), "max": _number(high or 0)}
        )
    if setting.max_items and len(value) > setting.max_items:
        problems.append(_("At most %(n)s lines.") % {"n": setting.max_items})
    return problems


def _name_list(setting: Setting, platform: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        return [_("Needs at least one name.")]
    if not all(_is_text(v, MAX_SHORT_TEXT) and v == v.strip() for v in value):
        return [_("Each line is a name of at most %(n)s characters.") % {"n": MAX_SHORT_TEXT}]
    if len(set(value)) != len(value):
        return [_("A name is listed twice.")]
    if setting.max_items and len(value) > setting.max_items:
        return [_("At most %(n)s names.") % {"n": setting.max_items}]
    return []


def hour_minutes(value: Any) -> int | None:
    """ "7" -> 420, "22:30" -> 1350; None when not an hour of the day (24 is the day's end)."""
    if not isinstance(value, str):
        return None
    match = _HOUR.match(value)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _hour(setting: Setting, platform: str, value: Any) -> list[str]:
    if hour_minutes(value) is None:
        return [_("An hour of the day, like 7 or 22:30.")]
    return []


def _phone(setting: Setting, platform: str, value: Any) -> list[str]:
    if not isinstance(value, str) or not _PHONE.match(value):
        return [_("Digits (and spaces), optionally starting with +; at most 20 characters.")]
    return []


def _email(setting: Setting, platform: str, value: Any) -> list[str]:
    try:
        EmailValidator()(value)
    except ValidationError:
        return [_("Not an e-mail address.")]
    return []


def _boolean(setting: Setting, platform: str, value: Any) -> list[str]:
    return [] if isinstance(value, bool) else [_("Must be true or false.")]


_CHECKS = {
    Kind.INTEGER: _integer,
    Kind.SECONDS: _integer,
    Kind.PROBABILITY: _number_value,
    Kind.WEIGHT: _number_value,
    Kind.SCORES: _scores,
    Kind.THRESHOLDS: _thresholds,
    Kind.PROBABILITIES: _probabilities,
    Kind.URL_MAP: _url_map,
    Kind.TEXT_MAP: _text_map,
    Kind.NAMED_MAP: _named_map,
    Kind.NUMBER_MAP: _number_map,
    Kind.NAME_LIST: _name_list,
    Kind.HOUR: _hour,
    Kind.PHONE: _phone,
    Kind.EMAIL: _email,
    Kind.BOOLEAN: _boolean,
}


# --- Rules across settings ------------------------------------------------------------------------


def _across_settings(platform: str, document: dict[str, Any], limits: Limits) -> list[Problem]:
    problems = []
    opening = hour_minutes(document.get("support_phone_opening_time"))
    closing = hour_minutes(document.get("support_phone_closing_time"))
    if opening is not None and closing is not None and closing <= opening:
        problems.append(Problem("support_phone_closing_time", _("Must be after the opening time.")))
    if platform == "ios" and document.get(
        "maximum_exposure_detection_waiting_time", 0
    ) < document.get("exposure_detection_period", 0):
        problems.append(
            Problem(
                "maximum_exposure_detection_waiting_time",
                _("Cannot be shorter than the time between exposure checks."),
            )
        )
    minimum_build = document.get("minimum_build_version", 0)
    if limits.newest_build is not None:
        if minimum_build > limits.newest_build:
            problems.append(
                Problem(
                    "minimum_build_version",
                    _(
                        "Above the newest build in the stores (%(newest)s): every phone would "
                        "be told to update to a build that does not exist."
                    )
                    % {"newest": limits.newest_build},
                )
            )
    elif (
        limits.minimum_build_in_force is not None and minimum_build > limits.minimum_build_in_force
    ):
        problems.append(
            Problem(
                "minimum_build_version",
                _(
                    "To raise the minimum build, first give the newest build in the stores "
                    "(below), so that no phone is told to update to a build that does not exist."
                ),
            )
        )
    return problems


def label_of(key: str) -> str:
    setting = BY_KEY.get(key)
    return str(setting.label) if setting else ""
