"""What the back office refuses to publish: anything the apps would fail to parse, and values
that would break or mislead phones (GAEN v1's ranges, thresholds out of order or out of reach,
an address iPhones cannot read, a packet size too small for the apps' uploads or too large for
the device API, dummy sequences that never end, certificate kinds the apps need, a minimum
build no phone has).

Every rule is checked on the settings document itself, whoever produced it (the form, a build
override, a rollback, a data migration), and each problem names the setting it concerns, so the
form can show it beside its field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _

from authority.appconfig import builds, packets
from authority.appconfig.catalogue import (
    ANDROID,
    ANDROID_INT_MAX,
    BY_KEY,
    IOS,
    LANGUAGES,
    MAX_BUILD,
    PHONE_LANGUAGE_TEXTS,
    Kind,
    Setting,
    settings_for,
)
from authority.appconfig.risk import BUCKETS, IOS_RISK_SCORE_MAX, LEVEL_VALUE_MAX
from authority.ingestion.serializers import MAX_COUNTRIES

_COUNTRY_CODE = re.compile(r"[A-Z]{2}")  # patterns used with fullmatch: no "\n" after
_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")
_HOUR = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?")
_PHONE = re.compile(r"\+?[0-9][0-9 ]{2,19}")
# A language as phones report it: Android's Locale.getLanguage() gives ISO 639-1 codes (and
# Java's legacy iw, in, ji), or three letters for a language without one (fil); iOS the same.
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
MAX_LANGUAGES = 60
MAX_TEXT = 5000
MAX_SHORT_TEXT = 200
MAX_URL = 2000
# On average, at most this many dummy requests in a row (Immuni's values make 2.06): cover
# traffic looks like a few real requests, not a stream.
MAX_DUMMY_SEQUENCE = 10

# What iPhones' URL(string:) reads (apps built before iOS 17 parse strictly, RFC 1738/1808):
# an https address of RFC 3986 characters only, every "%" starting an escape, an ASCII host
# name (punycode for others), no user name or password (no secret in an address).
_UNRESERVED_AND_SUB_DELIMS = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCHAR = rf"(?:[{_UNRESERVED_AND_SUB_DELIMS}:@]|%[0-9A-Fa-f]{{2}})"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HTTPS_URL = re.compile(  # used with fullmatch
    rf"https://{_LABEL}(?:\.{_LABEL})+(?::[0-9]{{1,5}})?"
    rf"(?:/{_PCHAR}*)*(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PCHAR_SAFE = "-._~!$&'()*+,;=:@%"


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
        for message in override_shape_problems(override, top_level, MAX_BUILD[platform]):
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
    for segment in builds.segments(document, overrides, last_build=MAX_BUILD[platform]):
        for problem in document_problems(platform, segment.document, limits=limits):
            if (problem.key, problem.message) not in base:
                found.append((segment, problem))
    return found


def override_shape_problems(
    override: dict[str, Any], top_level: set[str], highest_build: int
) -> list[str]:
    problems = []
    low, high = override.get("from_build"), override.get("to_build")
    for value in (low, high):
        if value is not None and (type(value) is not int or not 1 <= value <= highest_build):
            problems.append(_("a build is a number from 1 to %(max)s.") % {"max": highest_build})
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
    if setting.all_equal and len(set(value)) > 1:
        return [
            _(
                "The eight scores must be equal: keys carry levels only when they come from "
                "the European gateway, and Android and iPhones read them at different places "
                "in this list."
            )
        ]
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
    if value[-1] >= 1:
        return [
            _(
                "The last value must be below 1: phones use it for every further request, "
                "so a sequence would never end."
            )
        ]
    expected = expected_dummy_requests(value)
    if round(expected, 6) > MAX_DUMMY_SEQUENCE:  # 0.9 makes 10, not 10.000000000000002
        return [
            _(
                "A phone would send %(n)s dummy requests in a row on average: at most "
                "%(max)s (Immuni's 0.95 then 0.1 make about 2)."
            )
            % {"n": f"{expected:.1f}", "max": MAX_DUMMY_SEQUENCE}
        ]
    return []


def expected_dummy_requests(probabilities: list[float]) -> float:
    """The average number of requests of a dummy sequence: the apps send one, then another
    after the n-th with probability probabilities[n-1] (the last one for every later n).
    infinity when the last probability is 1."""
    expected, reach = 0.0, 1.0  # reach: the chance that the next request is sent
    for probability in probabilities:
        expected += reach
        reach *= probability
    last = probabilities[-1]
    return math.inf if last >= 1 else expected + reach / (1 - last)


def languages_of(value: dict[str, Any]) -> list[str]:
    """The languages of a map: the apps' five first, then the others in alphabetical order."""
    return [language for language in LANGUAGES if language in value] + sorted(
        set(value) - set(LANGUAGES)
    )


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
    bad = sorted(
        code for code in value if not isinstance(code, str) or not LANGUAGE_CODE.fullmatch(code)
    )
    if bad:
        problems.append(
            _(
                "%(codes)s: not a language code as phones report it (two or three lowercase "
                "letters, like ro or fil)."
            )
            % {"codes": ", ".join(str(code) for code in bad)}
        )
    if len(value) > MAX_LANGUAGES:
        problems.append(_("At most %(n)s languages.") % {"n": MAX_LANGUAGES})
    return problems


def _url_map(setting: Setting, platform: str, value: Any) -> list[str]:
    problems = _language_map(value)
    if isinstance(value, dict):
        for language in languages_of(value):
            address = value[language]
            if not _is_https_url(address):
                problems.append(_url_problem(language, address))
    return problems


def _is_https_url(address: Any) -> bool:
    return (
        isinstance(address, str)
        and len(address) <= MAX_URL
        and _HTTPS_URL.fullmatch(address) is not None
    )


def _url_problem(language: str, address: Any) -> str:
    parts = urlsplit(address) if isinstance(address, str) else None
    if parts is None or parts.scheme.lower() != "https" or "." not in (parts.hostname or ""):
        return _("%(language)s: must be a full https:// address.") % {"language": language}
    suggestion = encoded_address(address)
    if suggestion is not None:
        return _(
            "%(language)s: iPhones cannot read this address (it has characters an address "
            "must encode): write it as %(address)s"
        ) % {"language": language, "address": suggestion}
    return _(
        "%(language)s: iPhones cannot read this address: write other characters than letters "
        "without accents, digits and the signs addresses allow percent-encoded (%%20 for a "
        "space), the host name in letters, digits and hyphens, with no user name or password."
    ) % {"language": language}


def encoded_address(address: str) -> str | None:
    """The same address written as iPhones read it (what a browser sends for it): the host in
    punycode, other characters percent-encoded as UTF-8; None when that does not make a valid
    address either (a user name in it, a bad host)."""
    try:
        parts = urlsplit(address.strip())
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port
    except (UnicodeError, ValueError):
        return None
    if parts.username is not None or parts.password is not None:
        return None

    def encoded(text: str, safe: str) -> str:
        return quote(_STRAY_PERCENT.sub("%25", text), safe=safe)

    candidate = urlunsplit(
        (
            "https",
            host if port is None else f"{host}:{port}",
            encoded(parts.path, "/" + _PCHAR_SAFE),
            encoded(parts.query, "/?" + _PCHAR_SAFE),
            encoded(parts.fragment, "/?" + _PCHAR_SAFE),
        )
    )
    return candidate if _is_https_url(candidate) and candidate != address else None


def _text_map(setting: Setting, platform: str, value: Any) -> list[str]:
    problems = _language_map(value)
    if isinstance(value, dict):
        for language in languages_of(value):
            if not _is_text(value[language], MAX_TEXT):
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
    for language in languages_of(value):
        entries = value[language]
        if not isinstance(entries, dict) or not entries:
            problems.append(_("%(language)s: needs at least one line.") % {"language": language})
            continue
        bad_keys = [k for k in entries if not key_pattern.fullmatch(k)]
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
        missing = [name for name in setting.required_names if name not in entries]
        if missing:
            problems.append(
                _("%(language)s: missing %(names)s, which the apps show.")
                % {"language": language, "names": ", ".join(missing)}
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
    missing = [name for name in setting.required_names if name not in value]
    if missing:
        problems.append(
            _("Missing %(names)s: the apps show certificates of a missing kind as expired.")
            % {"names": ", ".join(missing)}
        )
    bad_keys = [k for k in value if not _NAME.fullmatch(k)]
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
    match = _HOUR.fullmatch(value)
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
    if not isinstance(value, str) or not _PHONE.fullmatch(value):
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
    problems.extend(_packet_problems(platform, document))
    problems.extend(_unreachable_scores(platform, document))
    if platform == ANDROID:
        problems.extend(_phone_language_problems(document))
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


def _packet_problems(platform: str, document: dict[str, Any]) -> list[Problem]:
    """The packet must hold the largest upload the caps allow (authority.appconfig.packets)."""
    summaries = document["teks_max_summary_count"]
    infos = document["teks_max_info_count"]
    needed = packets.largest_request(
        platform, summaries=summaries, exposure_infos=infos, countries=MAX_COUNTRIES
    )
    if document["teks_packet_size"] >= needed:
        return []
    return [
        Problem(
            "teks_packet_size",
            _(
                "Too small: with up to %(summaries)s exposure summaries and %(infos)s exposure "
                "details, a positive user's upload can take %(needed)s bytes, and phones cannot "
                "send a request larger than this size. Give at least %(needed)s, or lower those "
                "two caps."
            )
            % {"summaries": summaries, "infos": infos, "needed": needed},
        )
    ]


def highest_score(platform: str, exposure_configuration: dict[str, Any]) -> int:
    """The highest score an exposure can get: the product of the four lists' highest scores
    (the attenuation level is an average of its list's scores), capped at 255 on iPhones."""
    product = 1
    for name in (
        "attenuation_bucket_scores",
        "days_since_last_exposure_bucket_scores",
        "duration_bucket_scores",
        "transmission_risk_bucket_scores",
    ):
        product *= max(exposure_configuration[name])
    return min(product, IOS_RISK_SCORE_MAX) if platform == IOS else product


def _unreachable_scores(platform: str, document: dict[str, Any]) -> list[Problem]:
    highest = highest_score(platform, document["exposure_configuration"])
    message = _(
        "No exposure can score this much: with these lists the highest score is %(n)s (the "
        "product of the four highest scores), so phones would never warn."
    ) % {"n": highest}
    return [
        Problem(key, message)
        for key, value in (
            (
                "exposure_configuration.minimum_risk_score",
                document["exposure_configuration"]["minimum_risk_score"],
            ),
            ("exposure_info_minimum_risk_score", document["exposure_info_minimum_risk_score"]),
        )
        if value > highest
    ]


def phone_languages(document: dict[str, Any]) -> list[str]:
    """The languages beyond the apps' five that the Android app's `!!` texts carry."""
    texts = document.get(PHONE_LANGUAGE_TEXTS[0])
    if not isinstance(texts, dict):
        return []
    return sorted(set(texts) - set(LANGUAGES))


def _phone_language_problems(document: dict[str, Any]) -> list[Problem]:
    """The Android app stops on either screen for a phone language one of them lacks."""
    first, second = (set(document[key]) for key in PHONE_LANGUAGE_TEXTS)
    problems = []
    for key, lacking in (
        (PHONE_LANGUAGE_TEXTS[1], first - second),
        (PHONE_LANGUAGE_TEXTS[0], second - first),
    ):
        if lacking:
            problems.append(
                Problem(
                    key,
                    _(
                        "Missing for %(languages)s, which the other text has: Android phones "
                        "in these languages would stop on this screen. Give both texts the "
                        "same languages."
                    )
                    % {"languages": ", ".join(sorted(lacking))},
                )
            )
    return problems


# --- Immuni's own values ---------------------------------------------------------------------------

# Immuni's contacts and the hosts of its pages: an authority serves its own, the pages flag them.
IMMUNI_CONTACTS = {"support_phone": "800912491", "support_email": "cittadini@immuni.italia.it"}
IMMUNI_HOSTS = ("immuni.italia.it", "immuni.gov.it")


def immuni_leftovers(document: dict[str, Any]) -> list[str]:
    """Labels of the settings that still name Immuni's contacts or point at Immuni's pages."""
    found = []
    for key, value in IMMUNI_CONTACTS.items():
        if document.get(key) == value:
            found.append(label_of(key))
    for key in ("faq_url", "tou_url", "pn_url"):
        addresses = document.get(key)
        if isinstance(addresses, dict) and any(
            _is_immuni_host(address) for address in addresses.values()
        ):
            found.append(label_of(key))
    return found


def _is_immuni_host(address: Any) -> bool:
    if not isinstance(address, str):
        return False
    host = (urlsplit(address).hostname or "").lower()
    return any(host == name or host.endswith("." + name) for name in IMMUNI_HOSTS)


def label_of(key: str) -> str:
    setting = BY_KEY.get(key)
    return str(setting.label) if setting else ""
