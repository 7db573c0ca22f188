"""Every setting the apps read from GET /v1/settings: its type, which platform's app reads it
(and cannot start without it), what it does to phones, its unit and its range.

Read from the shipped apps' models (immuni-app-android `ConfigurationSettingsService.kt`,
Moshi; immuni-app-ios `Configuration.swift`, Codable): a field Moshi or Codable needs and does
not find makes the app refuse the whole document, and a value of the wrong type too (an
Android `Int` above 2**31 - 1, an iOS `UInt8` above 255, a `null` where neither allows one).
The editing form, the validation, the diff and the endpoint's schema test are all built from
this one list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from authority.appconfig.packets import largest_request
from authority.ingestion.analytics.serializers import MAX_ANDROID_BUILD, MAX_IOS_BUILD
from authority.ingestion.fields import MAX_PADDING
from authority.ingestion.serializers import MAX_COUNTRIES, MAX_EXPOSURE_INFOS, MAX_SUMMARIES
from authority.ingestion.views import CHECK_OTP_MAX_BODY_BYTES, UPLOAD_MAX_BODY_BYTES

ANDROID = "android"
IOS = "ios"
PLATFORMS = (ANDROID, IOS)
BOTH = frozenset(PLATFORMS)

# The highest build number each app sends (the analytics endpoints accept the same): iOS its
# CFBundleVersion, Android its versionCode (2,6xx,xxx for Immuni 2.6.0).
MAX_BUILD: dict[str, int] = {ANDROID: MAX_ANDROID_BUILD, IOS: MAX_IOS_BUILD}

# The languages both apps ship in (Android's `Language`, iOS' `UserLanguage`): every language
# map has them. The Android app looks two texts up by the phone's *system* language with `!!`
# (risk_exposure, eudcc_expiration: PHONE_LANGUAGE_TEXTS), which may be any: those maps may
# carry more languages, by the code phones report (validation.LANGUAGE_CODE).
LANGUAGES = ("it", "en", "de", "fr", "es")
PHONE_LANGUAGE_TEXTS = ("risk_exposure", "eudcc_expiration")

# The certificate kinds the apps look up (immuni-app-android `CertificateDGCAdapter.kt`,
# `MoreDetailGreenCertificate.kt`; immuni-app-ios `CertificatesCell.swift` and the detail
# views): a kind missing from eu_dcc_deadlines shows every certificate of that kind as expired.
# The iOS app alone reads `exemption`, and only its validity period.
CERTIFICATE_KINDS = (
    "vaccine_first_dose",
    "vaccine_fully_completed",
    "vaccine_booster",
    "healing_certificate",
    "cbis",
    "molecular_test",
    "rapid_test",
    "exemption",
)
CERTIFICATE_TEXT_KINDS = CERTIFICATE_KINDS[:-1]

# Largest value of an Android `Int` (Moshi refuses anything above).
ANDROID_INT_MAX = 2**31 - 1
# The largest request the apps may pad to: its padding alone must fit the device API's limit
# on padding (the padding is a little shorter than the request), and the whole body the
# smallest body limit of the endpoints the apps pad (check-otp, upload; docs/compatibility.md).
LARGEST_PACKET = min(MAX_PADDING, CHECK_OTP_MAX_BODY_BYTES, UPLOAD_MAX_BODY_BYTES)
# The smallest: the largest request an app sends with no exposure summary at all (packets.py;
# more summaries and details need more, validation checks it against the caps).
SMALLEST_PACKET = {
    platform: largest_request(platform, summaries=0, exposure_infos=0, countries=MAX_COUNTRIES)
    for platform in PLATFORMS
}

HOUR = 3600
DAY = 24 * HOUR


class Kind(Enum):
    INTEGER = "integer"
    SECONDS = "seconds"  # a duration, whole seconds
    PROBABILITY = "probability"  # a number from 0 to 1
    WEIGHT = "weight"  # a GAEN v1 weight, 0 to 100
    SCORES = "scores"  # eight GAEN bucket scores, 0 to 8 each
    THRESHOLDS = "thresholds"  # two attenuations in dB, in increasing order
    PROBABILITIES = "probabilities"  # a list of numbers from 0 to 1
    URL_MAP = "url_map"  # language -> https URL
    TEXT_MAP = "text_map"  # language -> text
    NAMED_MAP = "named_map"  # language -> {code: text}
    NUMBER_MAP = "number_map"  # name -> whole number
    NAME_LIST = "name_list"  # list of names
    HOUR = "hour"  # an hour of the day, as text ("7", "22")
    PHONE = "phone"  # optional phone number
    EMAIL = "email"  # optional e-mail address
    BOOLEAN = "boolean"


class Section(Enum):
    EXPOSURE = "exposure"
    DETECTION = "detection"
    REMINDERS = "reminders"
    TRAFFIC = "traffic"
    UPLOADS = "uploads"
    VERSIONS = "versions"
    SUPPORT = "support"
    LINKS = "links"
    COUNTRIES = "countries"
    CERTIFICATES = "certificates"


SECTION_TITLES: dict[Section, Promise] = {
    Section.EXPOSURE: _("When phones warn: the exposure configuration"),
    Section.DETECTION: _("How often phones check for exposures"),
    Section.REMINDERS: _("Reminders shown to users"),
    Section.TRAFFIC: _("Cover traffic and statistics sampling"),
    Section.UPLOADS: _("Uploads"),
    Section.VERSIONS: _("App versions"),
    Section.SUPPORT: _("Support contacts"),
    Section.LINKS: _("Links shown in the app"),
    Section.COUNTRIES: _("Countries and regions"),
    Section.CERTIFICATES: _("Certificates and guidance texts"),
}

# What the eight values of each GAEN v1 bucket list stand for, first to last.
BUCKET_LABELS: dict[str, tuple[Promise, ...]] = {
    "attenuation": (
        _("more than 73 dB"),
        _("64–73 dB"),
        _("52–63 dB"),
        _("34–51 dB"),
        _("28–33 dB"),
        _("16–27 dB"),
        _("11–15 dB"),
        _("10 dB or less"),
    ),
    "days": (
        _("14 days or more"),
        _("12–13 days"),
        _("10–11 days"),
        _("8–9 days"),
        _("6–7 days"),
        _("4–5 days"),
        _("2–3 days"),
        _("0–1 days"),
    ),
    "duration": (
        _("0 minutes"),
        _("up to 5 min"),
        _("6–10 min"),
        _("11–15 min"),
        _("16–20 min"),
        _("21–25 min"),
        _("26–30 min"),
        _("more than 30 min"),
    ),
    "transmission": tuple(format_lazy(_("level {n}"), n=n) for n in range(1, 9)),
}


@dataclass(frozen=True)
class Setting:
    key: (
        str  # path in the document: "teks_packet_size", "exposure_configuration.minimum_risk_score"
    )
    kind: Kind
    section: Section
    label: Promise
    meaning: Promise  # what it does to phones, in plain language
    unit: Promise | None = None
    minimum: dict[str, float] = field(default_factory=dict)  # per platform
    maximum: dict[str, float] = field(default_factory=dict)
    platforms: frozenset[str] = BOTH  # apps that read it
    optional: frozenset[str] = frozenset()  # apps that start without it (a default of their own)
    nullable: bool = False  # both apps take null for "none"
    buckets: str = ""  # SCORES: which BUCKET_LABELS
    # Why the maximum is what it is, said when a value goes above it.
    limit_reason: Promise | None = None
    max_items: int | None = None  # PROBABILITIES, NAMED_MAP (codes), NAME_LIST
    # NUMBER_MAP, NAMED_MAP: names that must be there (in every language).
    required_names: tuple[str, ...] = ()
    all_equal: bool = False  # SCORES: the eight values must be the same

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))

    @property
    def top_level(self) -> str:
        return self.path[0]

    @property
    def form_name(self) -> str:
        return self.key.replace(".", "__")

    def reads(self, platform: str) -> bool:
        return platform in self.platforms

    def required_by(self, platform: str) -> bool:
        return self.reads(platform) and platform not in self.optional

    def bounds(self, platform: str) -> tuple[float | None, float | None]:
        return self.minimum.get(platform), self.maximum.get(platform)


def _both(value: float) -> dict[str, float]:
    return {ANDROID: value, IOS: value}


def _seconds(
    key: str,
    section: Section,
    label: Promise,
    meaning: Promise,
    *,
    minimum: int,
    maximum: int,
    platforms: frozenset[str] = BOTH,
) -> Setting:
    return Setting(
        key,
        Kind.SECONDS,
        section,
        label,
        meaning,
        unit=_("seconds"),
        minimum=_both(minimum),
        maximum=_both(maximum),
        platforms=platforms,
    )


_EC = "exposure_configuration"

SETTINGS: tuple[Setting, ...] = (
    # --- When phones warn ----------------------------------------------------------------------
    Setting(
        f"{_EC}.attenuation_thresholds",
        Kind.THRESHOLDS,
        Section.EXPOSURE,
        _("Attenuation thresholds"),
        _(
            "Two signal losses that split the time of each exposure into three parts (closer "
            "than the first, between the two, farther than the second). Phones report these "
            "minutes with their uploads; they do not change the risk score."
        ),
        unit=_("dB, lower first"),
        minimum=_both(0),
        maximum=_both(255),
    ),
    Setting(
        f"{_EC}.attenuation_bucket_scores",
        Kind.SCORES,
        Section.EXPOSURE,
        _("Scores for signal attenuation"),
        _(
            "How much closeness counts: one score for each range of signal loss, from far "
            "(more than 73 dB) to very close (10 dB or less). 0 makes that distance never count."
        ),
        unit=_("eight scores"),
        minimum=_both(0),
        maximum=_both(8),
        buckets="attenuation",
    ),
    Setting(
        f"{_EC}.days_since_last_exposure_bucket_scores",
        Kind.SCORES,
        Section.EXPOSURE,
        _("Scores for days since the exposure"),
        _("How much an older exposure counts: one score for each age, 14 days or more first."),
        unit=_("eight scores"),
        minimum=_both(0),
        maximum=_both(8),
        buckets="days",
    ),
    Setting(
        f"{_EC}.duration_bucket_scores",
        Kind.SCORES,
        Section.EXPOSURE,
        _("Scores for the duration of the exposure"),
        _(
            "How much a longer exposure counts: one score for each duration, from no time at "
            "all to more than 30 minutes."
        ),
        unit=_("eight scores"),
        minimum=_both(0),
        maximum=_both(8),
        buckets="duration",
    ),
    Setting(
        f"{_EC}.transmission_risk_bucket_scores",
        Kind.SCORES,
        Section.EXPOSURE,
        _("Scores for the transmission risk"),
        _(
            "How much the transmission risk level of the positive person's key counts. Keys "
            "uploaded here carry no level; keys from the European gateway carry the level "
            "their country gave them, which Android and iPhones read from this list at "
            "different places. So the eight values must be equal: every key counts the same, "
            "as in Immuni."
        ),
        unit=_("eight scores"),
        minimum=_both(0),
        maximum=_both(8),
        buckets="transmission",
        all_equal=True,
    ),
    Setting(
        f"{_EC}.minimum_risk_score",
        Kind.INTEGER,
        Section.EXPOSURE,
        _("Minimum risk score"),
        _(
            "Exposures whose score (the product of the four scores above) is lower are ignored "
            "by the phone altogether. Not above the highest score the lists allow."
        ),
        unit=_("score"),
        minimum=_both(1),
        maximum={ANDROID: 4096, IOS: 255},
    ),
    Setting(
        "exposure_info_minimum_risk_score",
        Kind.INTEGER,
        Section.EXPOSURE,
        _("Risk score that warns the user"),
        _(
            "The phone warns its user of a risky exposure when an exposure's score reaches "
            "this value. Not above the highest score the lists allow (on iPhones scores stop "
            "at 255), or phones would never warn."
        ),
        unit=_("score"),
        minimum=_both(1),
        maximum={ANDROID: 4096, IOS: 255},
    ),
    *(
        Setting(
            f"{_EC}.{name}_weight",
            Kind.WEIGHT,
            Section.EXPOSURE,
            label,
            _(
                "Passed to iOS's exposure framework with the scores (version 1 of the "
                "framework multiplies the scores and does not use the weights). Immuni sent 1."
            ),
            unit=_("weight"),
            minimum=_both(0),
            maximum=_both(100),
            platforms=frozenset({IOS}),
        )
        for name, label in (
            ("attenuation", _("Weight of the attenuation score")),
            ("days_since_last_exposure", _("Weight of the days score")),
            ("duration", _("Weight of the duration score")),
            ("transmission_risk", _("Weight of the transmission risk score")),
        )
    ),
    # --- How often phones check --------------------------------------------------------------
    _seconds(
        "exposure_detection_period",
        Section.DETECTION,
        _("Time between exposure checks"),
        _(
            "How long a phone waits between two checks of the published keys. The phones' "
            "systems allow a limited number of checks a day; Immuni used 4 hours."
        ),
        minimum=HOUR,
        maximum=7 * DAY,
    ),
    _seconds(
        "maximum_exposure_detection_waiting_time",
        Section.DETECTION,
        _("Longest time without a check"),
        _(
            "When the app is opened and the last check is older than this, it checks at once. "
            "Not shorter than the time between checks."
        ),
        minimum=HOUR,
        maximum=7 * DAY,
        platforms=frozenset({IOS}),
    ),
    # --- Reminders ------------------------------------------------------------------------------
    _seconds(
        "service_not_active_notification_period",
        Section.REMINDERS,
        _("Reminder when the service is off"),
        _("How often the app reminds a user whose exposure notifications are switched off."),
        minimum=HOUR,
        maximum=30 * DAY,
    ),
    _seconds(
        "onboarding_not_completed_notification_period",
        Section.REMINDERS,
        _("Reminder to finish the set-up"),
        _(
            "How often the app reminds a user who has not finished setting it up (on iPhones: "
            "whose system needs an update)."
        ),
        minimum=HOUR,
        maximum=30 * DAY,
    ),
    _seconds(
        "required_update_notification_period",
        Section.REMINDERS,
        _("Reminder to update the app"),
        _("How often the app reminds a user whose build is below the minimum build."),
        minimum=HOUR,
        maximum=30 * DAY,
    ),
    _seconds(
        "risk_reminder_notification_period",
        Section.REMINDERS,
        _("Reminder after a risky exposure"),
        _("How often the app repeats its warning while the user has not opened it."),
        minimum=HOUR,
        maximum=30 * DAY,
    ),
    Setting(
        "reopen_reminder",
        Kind.BOOLEAN,
        Section.REMINDERS,
        _("Remind users to open the app"),
        _("Whether the app reminds users who have not opened it for a while."),
        platforms=frozenset({ANDROID}),
        optional=frozenset({ANDROID}),
    ),
    # --- Cover traffic and sampling --------------------------------------------------------------
    _seconds(
        "dummy_teks_average_opportunity_waiting_time",
        Section.TRAFFIC,
        _("Average time between dummy uploads"),
        _(
            "On average, how long a phone waits between two sequences of dummy uploads (cover "
            "traffic that hides the real ones). Shorter means more load on the servers."
        ),
        minimum=DAY,
        maximum=365 * DAY,
    ),
    _seconds(
        "dummy_teks_average_request_waiting_time",
        Section.TRAFFIC,
        _("Average time between dummy requests of a sequence"),
        _("On average, how long a phone waits between the requests of one dummy sequence."),
        minimum=1,
        maximum=HOUR,
    ),
    Setting(
        "dummy_teks_request_probabilities",
        Kind.PROBABILITIES,
        Section.TRAFFIC,
        _("Chance of another dummy request"),
        _(
            "After the first, second, ... request of a dummy sequence, the chance that the "
            "phone sends one more (the last value is used for the rest, so it must be below "
            "1 for a sequence to end). Immuni's 0.95 then 0.1 make about two requests a "
            "sequence."
        ),
        unit=_("one probability per line, from 0 to 1"),
        minimum=_both(0),
        maximum=_both(1),
        max_items=10,
    ),
    _seconds(
        "dummy_teks_window_duration",
        Section.TRAFFIC,
        _("Window for a dummy upload"),
        _("How long a scheduled dummy upload may wait for the app to be opened."),
        minimum=HOUR,
        maximum=365 * DAY,
        platforms=frozenset({IOS}),
    ),
    _seconds(
        "dummy_teks_average_start_waiting_time",
        Section.TRAFFIC,
        _("Average delay before a dummy sequence"),
        _("On average, how long after the app is opened a due dummy sequence starts."),
        minimum=1,
        maximum=HOUR,
        platforms=frozenset({IOS}),
    ),
    _seconds(
        "dummy_analytics_waiting_time",
        Section.TRAFFIC,
        _("Average time between dummy statistics reports"),
        _(
            "On average, how long a phone waits between two dummy operational-info reports "
            "(cover for the real ones)."
        ),
        minimum=DAY,
        maximum=365 * DAY,
    ),
    Setting(
        "operational_info_with_exposure_sampling_rate",
        Kind.PROBABILITY,
        Section.TRAFFIC,
        _("Share of phones reporting, after an exposure"),
        _(
            "The chance that a phone which warned of an exposure sends its monthly "
            "operational info. The statistics count reports: divide by this rate to estimate "
            "phones."
        ),
        unit=_("probability from 0 to 1"),
        minimum=_both(0),
        maximum=_both(1),
    ),
    Setting(
        "operational_info_without_exposure_sampling_rate",
        Kind.PROBABILITY,
        Section.TRAFFIC,
        _("Share of phones reporting, without an exposure"),
        _("The chance that a phone without a warning sends its monthly operational info."),
        unit=_("probability from 0 to 1"),
        minimum=_both(0),
        maximum=_both(1),
    ),
    # --- Uploads ---------------------------------------------------------------------------------
    Setting(
        "teks_max_summary_count",
        Kind.INTEGER,
        Section.UPLOADS,
        _("Exposure summaries per upload"),
        _(
            "How many exposure-detection summaries a positive user's phone sends with its keys, "
            "at most: the maximum is what the device API accepts."
        ),
        unit=_("summaries"),
        minimum=_both(0),
        maximum=_both(MAX_SUMMARIES),
        limit_reason=_("the device API refuses uploads with more summaries"),
    ),
    Setting(
        "teks_max_info_count",
        Kind.INTEGER,
        Section.UPLOADS,
        _("Exposure details per upload"),
        _(
            "How many exposure details (across all summaries) a phone sends with its keys, at "
            "most: the maximum is what the device API accepts."
        ),
        unit=_("exposures"),
        minimum=_both(0),
        maximum=_both(MAX_EXPOSURE_INFOS),
        limit_reason=_("the device API refuses uploads with more exposure details"),
    ),
    Setting(
        "teks_packet_size",
        Kind.INTEGER,
        Section.UPLOADS,
        _("Size every request is padded to"),
        _(
            "Phones pad every request to the device API to this size, so that real and dummy "
            "requests look alike on the network. Not below the largest upload the caps above "
            "allow, or phones could not send it; above what the device API accepts as "
            "padding, every padded request would be refused."
        ),
        unit=_("bytes"),
        minimum=dict(SMALLEST_PACKET),
        maximum=_both(LARGEST_PACKET),
        limit_reason=_("the device API would refuse the padding of every padded request"),
    ),
    # --- App versions ----------------------------------------------------------------------------
    Setting(
        "minimum_build_version",
        Kind.INTEGER,
        Section.VERSIONS,
        _("Minimum app build"),
        _(
            "Phones with an older build show only a screen asking to update the app, and "
            "Android phones also stop checking for exposures until they are updated. Never "
            "above the newest build in the stores, or every phone would be stopped. Android "
            "builds are the app's version code (2,600,000 and up for version 2.6.0), iPhone "
            "builds a small number."
        ),
        unit=_("build number"),
        minimum=_both(0),
        maximum={ANDROID: MAX_ANDROID_BUILD, IOS: MAX_IOS_BUILD},
        limit_reason=_("no app build is numbered higher"),
    ),
    Setting(
        "experimental_phase",
        Kind.BOOLEAN,
        Section.VERSIONS,
        _("Experimental phase"),
        _("Shows the app's notice that the service is in an experimental phase."),
        platforms=frozenset({ANDROID}),
        optional=frozenset({ANDROID}),
    ),
    # --- Support -----------------------------------------------------------------------------------
    Setting(
        "support_phone",
        Kind.PHONE,
        Section.SUPPORT,
        _("Support phone number"),
        _("The number the app offers to call for help. Empty: the app shows none."),
        optional=BOTH,
        nullable=True,
    ),
    Setting(
        "support_email",
        Kind.EMAIL,
        Section.SUPPORT,
        _("Support e-mail address"),
        _("The address the app offers for help. Empty: the app shows none."),
        optional=BOTH,
        nullable=True,
    ),
    Setting(
        "support_phone_opening_time",
        Kind.HOUR,
        Section.SUPPORT,
        _("Support phone opens at"),
        _("Shown next to the phone number."),
        unit=_("hour of the day, 0–23 (or HH:MM)"),
        optional=frozenset({IOS}),
    ),
    Setting(
        "support_phone_closing_time",
        Kind.HOUR,
        Section.SUPPORT,
        _("Support phone closes at"),
        _("Shown next to the phone number; after the opening time."),
        unit=_("hour of the day, 1–24 (or HH:MM)"),
        optional=frozenset({IOS}),
    ),
    # --- Links ------------------------------------------------------------------------------------
    Setting(
        "faq_url",
        Kind.URL_MAP,
        Section.LINKS,
        _("Frequently asked questions"),
        _(
            "The address of the FAQ file the app downloads, one per language (the Android app "
            "reads it as JSON)."
        ),
        unit=_("https address per language"),
    ),
    Setting(
        "tou_url",
        Kind.URL_MAP,
        Section.LINKS,
        _("Terms of use"),
        _("The page the app opens for its terms of use, one per language."),
        unit=_("https address per language"),
    ),
    Setting(
        "pn_url",
        Kind.URL_MAP,
        Section.LINKS,
        _("Privacy notice"),
        _("The page the app opens for its privacy notice, one per language."),
        unit=_("https address per language"),
    ),
    # --- Countries and regions ----------------------------------------------------------------------
    Setting(
        "countries",
        Kind.NAMED_MAP,
        Section.COUNTRIES,
        _("Countries a user can say they visited"),
        _(
            "The countries listed when a positive user uploads their keys, by two-letter "
            "code, named in each language. Every language lists the same codes, and no more "
            "than the device API accepts in one upload."
        ),
        unit=_("one line per country: CODE = Name"),
        max_items=MAX_COUNTRIES,
        limit_reason=_("the device API refuses uploads naming more countries"),
    ),
    Setting(
        "allowed_regions_self_upload",
        Kind.NAME_LIST,
        Section.COUNTRIES,
        _("Regions allowing uploads without an operator"),
        _(
            "Regions whose users the iPhone app offers to upload keys on their own (a flow of "
            "Italy's health system that this back office does not provide)."
        ),
        unit=_("one region per line"),
        platforms=frozenset({IOS}),
        max_items=50,
    ),
    # --- Certificates and texts ---------------------------------------------------------------------
    Setting(
        "risk_exposure",
        Kind.TEXT_MAP,
        Section.CERTIFICATES,
        _("What to do after a risky exposure"),
        _(
            "The guidance the app shows after warning its user, one text per language. The "
            "Android app looks it up by the phone's own language and stops when it is "
            "missing: see “Other phone languages” below."
        ),
        unit=_("text per language"),
    ),
    Setting(
        "eudcc_expiration",
        Kind.NAMED_MAP,
        Section.CERTIFICATES,
        _("Validity of digital COVID certificates"),
        _(
            "The validity text the app shows for each kind of certificate, in each language; "
            "every language lists the same kinds, at least those the apps show. The Android "
            "app looks it up by the phone's own language, like the guidance above."
        ),
        unit=_("one line per kind: kind = text"),
        max_items=20,
        required_names=CERTIFICATE_TEXT_KINDS,
    ),
    Setting(
        "eu_dcc_deadlines",
        Kind.NUMBER_MAP,
        Section.CERTIFICATES,
        _("Validity periods of certificates"),
        _(
            "How long each kind of certificate is valid, as the app computes it (tests in "
            "hours, the other kinds in days). Every kind the apps read is required: the apps "
            "show certificates of a missing kind as expired."
        ),
        unit=_("one line per kind: kind = number"),
        minimum=_both(1),
        maximum=_both(100_000),
        max_items=20,
        required_names=CERTIFICATE_KINDS,
    ),
)

BY_KEY: dict[str, Setting] = {setting.key: setting for setting in SETTINGS}


def settings_for(platform: str) -> tuple[Setting, ...]:
    return tuple(setting for setting in SETTINGS if setting.reads(platform))


def sections_for(platform: str) -> list[tuple[Section, list[Setting]]]:
    grouped: dict[Section, list[Setting]] = {}
    for setting in settings_for(platform):
        grouped.setdefault(setting.section, []).append(setting)
    return [(section, grouped[section]) for section in Section if section in grouped]


def read(document: dict[str, Any], setting: Setting) -> Any:
    """The setting's value in a settings document (KeyError when absent)."""
    value: Any = document
    for part in setting.path:
        value = value[part]
    return value


def write(document: dict[str, Any], setting: Setting, value: Any) -> None:
    target = document
    for part in setting.path[:-1]:
        target = target.setdefault(part, {})
    target[setting.path[-1]] = value
