"""What the back office refuses to publish, each refusal with a message that names the
setting and says why (authority.appconfig.validation, through the draft service)."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from authority.appconfig import catalogue, packets, services, validation
from authority.appconfig.defaults import immuni_defaults
from authority.ingestion.fields import MAX_PADDING
from authority.ingestion.serializers import MAX_COUNTRIES, MAX_EXPOSURE_INFOS, MAX_SUMMARIES

pytestmark = pytest.mark.django_db


def problems(
    platform: str, change=None, *, overrides=None, newest_build=None
) -> dict[str, list[str]]:
    document = immuni_defaults(platform)
    if change:
        change(document)
    found: dict[str, list[str]] = {}
    content = services.Content(document, overrides or [], newest_build)
    for problem in services.content_problems(platform, content):
        key = problem.key
        if problem.first_build is not None:
            key = f"{key}@{problem.first_build}-{problem.last_build}"
        found.setdefault(key, []).append(problem.message)
    return found


def setter(path: str, value: Any):
    def change(document: dict[str, Any]) -> None:
        target = document
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = value

    return change


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_immuni_defaults_are_valid(initial_versions, platform):
    assert problems(platform) == {}


def test_the_caps_are_the_device_apis_own_constants():
    assert catalogue.BY_KEY["teks_max_summary_count"].maximum["android"] == MAX_SUMMARIES
    assert catalogue.BY_KEY["teks_max_info_count"].maximum["ios"] == MAX_EXPOSURE_INFOS
    assert catalogue.BY_KEY["countries"].max_items == MAX_COUNTRIES
    assert catalogue.LARGEST_PACKET == MAX_PADDING == 150_000


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "exposure_configuration.attenuation_bucket_scores",
            [0, 0, 5, 5, 5, 5, 5],
            "Needs exactly 8 scores, one for each range.",
        ),
        (
            "exposure_configuration.duration_bucket_scores",
            [0, 0, 0, 0, 5, 5, 5, 9],
            "Each score is a whole number from 0 to 8.",
        ),
        (
            "exposure_configuration.days_since_last_exposure_bucket_scores",
            [0] * 8,
            "All scores are 0: no exposure would ever count.",
        ),
        (
            "exposure_configuration.transmission_risk_bucket_scores",
            [1, 1, 1, 1, 1, 1, 1, 1.5],
            "Each score is a whole number from 0 to 8.",
        ),
        (
            "exposure_configuration.attenuation_thresholds",
            [70, 50],
            "The first threshold must be lower than the second.",
        ),
        (
            "exposure_configuration.attenuation_thresholds",
            [50],
            "Needs two thresholds in dB, whole numbers.",
        ),
        (
            "exposure_configuration.attenuation_thresholds",
            [50, 300],
            "Each threshold is from 0 to 255 dB.",
        ),
        ("exposure_configuration.minimum_risk_score", 0, "Must be at least 1."),
        (
            "operational_info_without_exposure_sampling_rate",
            1.5,
            "Must be at most 1.",
        ),
        ("operational_info_with_exposure_sampling_rate", -0.1, "Must be at least 0."),
        (
            "dummy_teks_request_probabilities",
            [0.95, 1.1],
            "Each value is a probability from 0 to 1.",
        ),
        ("dummy_teks_request_probabilities", [], "Needs at least one probability."),
        ("exposure_detection_period", 0, "Must be at least 3600."),
        ("risk_reminder_notification_period", -5, "Must be at least 3600."),
        ("dummy_teks_average_request_waiting_time", 0, "Must be at least 1."),
        ("teks_packet_size", "110000", "Must be a whole number."),
        (
            "teks_packet_size",
            150_001,
            "Must be at most 150000: the device API would refuse the padding of every padded "
            "request.",
        ),
        (
            "teks_max_summary_count",
            85,
            "Must be at most 84: the device API refuses uploads with more summaries.",
        ),
        (
            "teks_max_info_count",
            601,
            "Must be at most 600: the device API refuses uploads with more exposure details.",
        ),
        (
            "faq_url",
            {**immuni_defaults("android")["faq_url"], "de": "http://example.org/faq.json"},
            "de: must be a full https:// address.",
        ),
        (
            "tou_url",
            {"it": "https://example.org/tou", "en": "https://example.org/tou"},
            "Missing for de, fr, es: the app needs every language it speaks.",
        ),
        (
            "risk_exposure",
            {**immuni_defaults("android")["risk_exposure"], "pt-BR": "Texto"},
            "pt-BR: not a language code as phones report it (two or three lowercase letters, "
            "like ro or fil).",
        ),
        (
            "risk_exposure",
            {**immuni_defaults("android")["risk_exposure"], "fr": "  "},
            "fr: needs a text of at most 5000 characters.",
        ),
        (
            "eu_dcc_deadlines",
            {**immuni_defaults("android")["eu_dcc_deadlines"], "cbis": None},
            "cbis: each value is a whole number from 1 to 100000.",
        ),
        (
            "eu_dcc_deadlines",
            {**immuni_defaults("android")["eu_dcc_deadlines"], "vaccine_booster": 0},
            "vaccine_booster: each value is a whole number from 1 to 100000.",
        ),
        (
            "eu_dcc_deadlines",
            {"cbis": 540},
            "Missing vaccine_first_dose, vaccine_fully_completed, vaccine_booster, "
            "healing_certificate, molecular_test, rapid_test, exemption: the apps show "
            "certificates of a missing kind as expired.",
        ),
        (
            "exposure_configuration.transmission_risk_bucket_scores",
            [0, 1, 1, 1, 1, 1, 1, 1],
            "The eight scores must be equal: keys carry levels only when they come from the "
            "European gateway, and Android and iPhones read them at different places in this "
            "list.",
        ),
        (
            "dummy_teks_request_probabilities",
            [0.95, 1],
            "The last value must be below 1: phones use it for every further request, so a "
            "sequence would never end.",
        ),
        (
            "dummy_teks_request_probabilities",
            [0.95, 0.95],
            "A phone would send 20.0 dummy requests in a row on average: at most 10 (Immuni's "
            "0.95 then 0.1 make about 2).",
        ),
        (
            "exposure_info_minimum_risk_score",
            26,
            "No exposure can score this much: with these lists the highest score is 25 (the "
            "product of the four highest scores), so phones would never warn.",
        ),
        ("support_email", "not an address", "Not an e-mail address."),
        (
            "support_phone",
            "call us",
            "Digits (and spaces), optionally starting with +; at most 20 characters.",
        ),
        ("support_phone_opening_time", "25", "An hour of the day, like 7 or 22:30."),
        ("support_phone_closing_time", "6", "Must be after the opening time."),
        ("support_phone_opening_time", None, "Cannot be empty: the app needs a value."),
        ("minimum_build_version", -1, "Must be at least 0."),
        ("reopen_reminder", "yes", "Must be true or false."),
    ],
)
def test_refused_values_name_their_setting_and_say_why(initial_versions, path, value, message):
    assert problems("android", setter(path, value)) == {path: [message]}


def test_every_language_lists_the_same_countries(initial_versions):
    def change(document):
        del document["countries"]["fr"]["ES"]
        document["countries"]["de"]["at"] = "Österreich"

    assert problems("ios", change) == {
        "countries": [
            "de: at is not a two-letter country code in capitals.",
            "de lists other codes than it: every language lists the same.",
            "fr lists other codes than it: every language lists the same.",
        ]
    }


def test_no_more_countries_than_an_upload_may_name(initial_versions):
    codes = [f"{a}{b}" for a in "ABCDEFGHIJ" for b in "XYZ"][: MAX_COUNTRIES + 1]

    def change(document):
        document["countries"] = {
            lang: {code: code for code in codes} for lang in catalogue.LANGUAGES
        }

    found = problems("android", change)["countries"]
    assert found[0] == "it: at most 27 lines: the device API refuses uploads naming more countries."


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("exposure_configuration.minimum_risk_score", 256, "Must be at most 255."),
        ("exposure_info_minimum_risk_score", 300, "Must be at most 255."),
        ("exposure_configuration.attenuation_weight", 101, "Must be at most 100."),
        (
            "exposure_configuration.duration_weight",
            "1",
            "Must be a number (use a point for decimals).",
        ),
        (
            "maximum_exposure_detection_waiting_time",
            7200,
            "Cannot be shorter than the time between exposure checks.",
        ),
        ("allowed_regions_self_upload", ["Lazio", "Lazio"], "A name is listed twice."),
    ],
)
def test_ios_limits(initial_versions, path, value, message):
    assert problems("ios", setter(path, value)) == {path: [message]}


def scores_of(value: int):
    def change(document):
        for name in (
            "attenuation_bucket_scores",
            "days_since_last_exposure_bucket_scores",
            "duration_bucket_scores",
            "transmission_risk_bucket_scores",
        ):
            document["exposure_configuration"][name] = [value] * 8

    return change


def test_android_scores_may_go_up_to_the_full_gaen_range(initial_versions):
    def change(document):
        scores_of(8)(document)
        document["exposure_info_minimum_risk_score"] = 4096
        document["exposure_configuration"]["minimum_risk_score"] = 4096

    assert problems("android", change) == {}


def test_a_threshold_no_exposure_can_reach_is_refused(initial_versions):
    """The highest score is the product of the four lists' highest scores: Immuni's iOS lists
    give 3 x 1 x 5 x 1 = 15; iPhones cap scores at 255."""
    unreachable = (
        "No exposure can score this much: with these lists the highest score is %s (the "
        "product of the four highest scores), so phones would never warn."
    )
    assert problems("ios", setter("exposure_configuration.minimum_risk_score", 16)) == {
        "exposure_configuration.minimum_risk_score": [unreachable % 15]
    }
    assert problems("ios", setter("exposure_info_minimum_risk_score", 15)) == {}

    def capped(document):
        scores_of(8)(document)
        document["exposure_info_minimum_risk_score"] = 255

    assert problems("ios", capped) == {}
    assert problems("android", scores_of(1)) == {
        "exposure_info_minimum_risk_score": [unreachable % 1]
    }


def test_a_missing_setting_and_an_unknown_one_are_both_refused(initial_versions):
    def change(document):
        del document["teks_packet_size"]
        document["allowed_regions_self_upload"] = ["Lazio"]  # an iOS setting, not Android's

    assert problems("android", change) == {
        "teks_packet_size": ["Missing: the app cannot start without this setting."],
        "": ["“allowed_regions_self_upload” is not a setting of this app."],
    }


def test_the_minimum_build_is_never_above_the_newest_build(initial_versions):
    assert problems("android", setter("minimum_build_version", 120), newest_build=150) == {}
    assert problems("android", setter("minimum_build_version", 151), newest_build=150) == {
        "minimum_build_version": [
            "Above the newest build in the stores (150): every phone would be told to update "
            "to a build that does not exist."
        ]
    }


def test_without_a_newest_build_the_minimum_build_cannot_be_raised(initial_versions):
    # In force: Android 0. Lowering or keeping is fine; raising needs the newest build.
    assert problems("android", setter("minimum_build_version", 0)) == {}
    assert problems("android", setter("minimum_build_version", 5)) == {
        "minimum_build_version": [
            "To raise the minimum build, first give the newest build in the stores (below), so "
            "that no phone is told to update to a build that does not exist."
        ]
    }


def test_the_newest_build_is_a_build_number(initial_versions):
    assert problems("ios", newest_build=0) == {"newest_build": ["A build number from 1 to 20000."]}
    assert problems("ios", newest_build=20_001) == {
        "newest_build": ["A build number from 1 to 20000."]
    }


def test_overrides_are_checked_for_every_range_of_builds_they_make(initial_versions):
    overrides = [
        {"from_build": 100, "to_build": None, "values": {"teks_packet_size": 200_000}},
        {"from_build": 10, "to_build": 5, "values": {"teks_packet_size": 1000}},
    ]
    assert problems("android", overrides=overrides) == {
        "": ["Override 2: the first build is after the last one."]
    }
    overrides.pop()
    assert problems("android", overrides=overrides) == {
        "teks_packet_size@100-2100000000": [
            "Must be at most 150000: the device API would refuse the padding of every padded "
            "request."
        ]
    }


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"from_build": None, "to_build": None, "values": {"teks_packet_size": 1}},
            "give the first build, the last build, or both.",
        ),
        ({"from_build": 1, "to_build": 2, "values": {}}, "it changes no setting."),
        (
            {"from_build": 0, "to_build": 2, "values": {"x": 1}},
            "a build is a number from 1 to 2100000000.",
        ),
        (
            {"from_build": 3, "values": {"allowed_regions_self_upload": []}},
            "not settings of this app: allowed_regions_self_upload.",
        ),
    ],
)
def test_malformed_overrides_are_refused(initial_versions, override, message):
    found = problems("android", overrides=[override])[""]
    assert f"Override 1: {message}" in found


def test_a_dummy_request_padded_to_the_largest_packet_is_accepted_by_the_device_api(
    client, regions
):
    """The packet-size limit is the device API's own: a check-otp padded with as many
    characters as the largest packet allows goes through."""
    body = json.dumps({"padding": "0" * catalogue.LARGEST_PACKET})
    response = client.post(
        "/v1/ingestion/check-otp",
        body,
        content_type="application/json",
        HTTP_IMMUNI_DUMMY_DATA="1",
        HTTP_AUTHORIZATION="Bearer " + "a" * 64,
    )
    assert response.status_code == 204


def test_problems_do_not_change_the_document(initial_versions):
    document = immuni_defaults("ios")
    before = copy.deepcopy(document)
    services.content_problems("ios", services.Content(document))
    assert document == before


# --- Addresses iPhones read ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "written_as"),
    [
        (
            "https://www.salute.gov.it/privacy-città.html",
            "https://www.salute.gov.it/privacy-citt%C3%A0.html",
        ),
        ("https://a.it/x|y", "https://a.it/x%7Cy"),
        ("https://a.it/{x}", "https://a.it/%7Bx%7D"),
        ("https://a.it/100%", "https://a.it/100%25"),
        ("https://a.it/a^b", "https://a.it/a%5Eb"),
        ("https://a.it/a b", "https://a.it/a%20b"),
        ('https://a.it/say"hi"', "https://a.it/say%22hi%22"),
        ("https://a.it/x?q=<b>", "https://a.it/x?q=%3Cb%3E"),
        ("https://a.it/x#a#b", "https://a.it/x#a%23b"),
        ("https://città.it/faq.json", "https://xn--citt-3na.it/faq.json"),
    ],
)
def test_an_address_iphones_cannot_read_is_refused_with_its_encoded_form(
    initial_versions, address, written_as
):
    """Apps built before iOS 17 read URLs with the strict RFC 1738/1808 parser: a character an
    address must encode makes URL(string:) nil and the whole configuration undecodable."""
    links = {**immuni_defaults("ios")["pn_url"], "it": address}
    assert problems("ios", setter("pn_url", links)) == {
        "pn_url": [
            "it: iPhones cannot read this address (it has characters an address must encode): "
            f"write it as {written_as}"
        ]
    }
    assert problems("ios", setter("pn_url", {**links, "it": written_as})) == {}


@pytest.mark.parametrize(
    "address",
    [
        "https://user:secret@a.it/faq.json",
        "https://a.it:99999999/faq.json",
        "https://a_b.it/faq.json",
    ],
)
def test_an_address_that_cannot_be_mended_is_refused(initial_versions, address):
    links = {**immuni_defaults("android")["faq_url"], "en": address}
    found = problems("android", setter("faq_url", links))["faq_url"]
    assert found == [
        "en: iPhones cannot read this address: write other characters than letters without "
        "accents, digits and the signs addresses allow percent-encoded (%20 for a space), the "
        "host name in letters, digits and hyphens, with no user name or password."
    ]


@pytest.mark.parametrize(
    "address",
    [
        "https://www.example.org/docs/faq-en.json",
        "https://example.org:8443/a/b/?q=1&r=%C3%A0;s=(x)*+,!$'~#part/2?",
        "https://xn--citt-3na.it/",
    ],
)
def test_addresses_iphones_read_are_accepted(initial_versions, address):
    links = {**immuni_defaults("ios")["tou_url"], "fr": address}
    assert problems("ios", setter("tou_url", links)) == {}


# --- The packet size and the uploads ------------------------------------------------------------


def test_the_packet_holds_the_largest_upload_the_caps_allow(initial_versions):
    """Below the largest upload, phones cannot pad it: Android's interceptor throws, iOS gives
    up (paddingOverflow). With Immuni's caps the largest upload is just under Immuni's 110,000."""
    needed = packets.largest_request(
        "android", summaries=84, exposure_infos=600, countries=MAX_COUNTRIES
    )
    assert 105_000 < needed < 110_000
    assert problems("android", setter("teks_packet_size", needed)) == {}
    assert problems("android", setter("teks_packet_size", needed - 1)) == {
        "teks_packet_size": [
            "Too small: with up to 84 exposure summaries and 600 exposure details, a positive "
            f"user's upload can take {needed} bytes, and phones cannot send a request larger "
            f"than this size. Give at least {needed}, or lower those two caps."
        ]
    }

    def smaller_caps(document):
        document["teks_packet_size"] = 50_000
        document["teks_max_summary_count"] = 28
        document["teks_max_info_count"] = 200

    assert problems("ios", smaller_caps) == {}
    assert problems("ios", setter("teks_packet_size", 2_000)) == {
        "teks_packet_size": [f"Must be at least {catalogue.SMALLEST_PACKET['ios']}."]
    }


def test_the_largest_upload_is_what_the_device_api_reads(client, regions):
    """The size packets.py counts is the size of an upload the device API takes: its body,
    written compactly with the same figures, fits within the count (headers aside)."""
    today = date.today().isoformat()
    info = {
        "date": today,
        "duration": 1800,
        "attenuation_value": 255,
        "attenuation_durations": [1800] * 3,
        "transmission_risk_level": 8,
        "total_risk_score": 4096,
    }
    summaries = [
        {
            "date": today,
            "matched_key_count": 999_999,
            "days_since_last_exposure": 14,
            "attenuation_durations": [99_999] * 3,
            "maximum_risk_score": 4096,
            "exposure_info": [info] * (600 if index == 0 else 0),
        }
        for index in range(84)
    ]
    body = {
        "teks": [
            {"key_data": "A" * 22 + "==", "rolling_start_number": 2_900_000, "rolling_period": 144}
        ]
        * 15,
        "province": "RM",
        "exposure_detection_summaries": summaries,
        "countries_of_interest": ["AT"] * MAX_COUNTRIES,
        "padding": "",
    }
    written = len(json.dumps(body, separators=(",", ":")))
    counted = packets.largest_request(
        "android", summaries=84, exposure_infos=600, countries=MAX_COUNTRIES
    )
    assert written <= counted - packets.REQUEST_OVERHEAD


# --- Dummy sequences ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probabilities", "expected"),
    [([0.95, 0.1], 2.0556), ([0.5], 2.0), ([0.0], 1.0), ([1, 0.5, 0], 2.5), ([0.9], 10.0)],
)
def test_the_average_length_of_a_dummy_sequence(probabilities, expected):
    assert validation.expected_dummy_requests(probabilities) == pytest.approx(expected, abs=1e-3)
    assert validation.expected_dummy_requests([0.5, 1.0]) == float("inf")


def test_a_dummy_sequence_of_ten_requests_on_average_is_the_most(initial_versions):
    assert problems("android", setter("dummy_teks_request_probabilities", [0.9])) == {}
    assert "dummy_teks_request_probabilities" in problems(
        "android", setter("dummy_teks_request_probabilities", [0.91])
    )
    assert problems("ios", setter("dummy_teks_request_probabilities", [1.0])) == {
        "dummy_teks_request_probabilities": [
            "The last value must be below 1: phones use it for every further request, so a "
            "sequence would never end."
        ]
    }


# --- Languages of the phones -------------------------------------------------------------------


def in_more_languages(*languages: str, texts=("risk_exposure", "eudcc_expiration")):
    def change(document):
        for key in texts:
            for language in languages:
                document[key][language] = document[key]["en"]

    return change


def test_the_texts_android_reads_by_the_phones_language_may_carry_more_languages(
    initial_versions,
):
    """The Android app reads risk_exposure and eudcc_expiration with the system language and
    `!!`: a Romanian phone needs "ro" (Java's legacy codes and three-letter ones included)."""
    assert problems("android", in_more_languages("ro", "ar", "iw", "fil")) == {}
    assert problems("ios", in_more_languages("ro")) == {}


def test_both_texts_carry_the_same_phone_languages_on_android(initial_versions):
    assert problems("android", in_more_languages("ro", "uk", texts=("risk_exposure",))) == {
        "eudcc_expiration": [
            "Missing for ro, uk, which the other text has: Android phones in these languages "
            "would stop on this screen. Give both texts the same languages."
        ]
    }


def test_every_language_of_the_certificate_texts_has_the_kinds_the_apps_show(initial_versions):
    def change(document):
        document["eudcc_expiration"]["ro"] = dict(document["eudcc_expiration"]["en"])
        document["risk_exposure"]["ro"] = document["risk_exposure"]["en"]
        for language in document["eudcc_expiration"]:
            del document["eudcc_expiration"][language]["cbis"]

    found = problems("android", change)["eudcc_expiration"]
    assert found[0] == "it: missing cbis, which the apps show."
    assert len(found) == 6  # the five languages and ro


def test_too_many_languages_are_refused(initial_versions):
    codes = [f"x{a}{b}" for a in "abcdefgh" for b in "abcdefgh"][:56]
    assert problems("android", in_more_languages(*codes[:55])) == {}
    assert problems("android", in_more_languages(*codes))["risk_exposure"] == [
        "At most 60 languages."
    ]


# --- Build numbers ----------------------------------------------------------------------------------


def test_android_builds_are_version_codes(initial_versions):
    """The Android app's build is its versionCode (2,6xx,xxx for 2.6.0), iOS' a small number:
    the newest build, the minimum build and the overrides' ranges follow each platform."""

    def raise_minimum(document):
        document["minimum_build_version"] = 2_600_000

    assert problems("android", raise_minimum, newest_build=2_600_123) == {}
    assert problems("android", newest_build=2_100_000_001) == {
        "newest_build": ["A build number from 1 to 2100000000."]
    }
    assert problems("ios", raise_minimum, newest_build=2_600_123) == {
        "newest_build": ["A build number from 1 to 20000."],
        "minimum_build_version": ["Must be at most 20000: no app build is numbered higher."],
    }
    override = {"from_build": 2_600_000, "to_build": None, "values": {"teks_packet_size": 120_000}}
    assert problems("android", overrides=[override]) == {}
    assert problems("ios", overrides=[override]) == {
        "": ["Override 1: a build is a number from 1 to 20000."]
    }


def test_every_range_of_builds_is_checked_with_the_new_rules(initial_versions):
    overrides = [
        {
            "from_build": 2_600_000,
            "to_build": None,
            "values": {"dummy_teks_request_probabilities": [0.5, 1.0], "teks_packet_size": 3_000},
        }
    ]
    found = problems("android", overrides=overrides)
    assert list(found) == ["dummy_teks_request_probabilities@2600000-2100000000"]
    overrides[0]["values"] = {"teks_packet_size": 3_000}
    assert list(problems("android", overrides=overrides)) == ["teks_packet_size@2600000-2100000000"]


# --- Immuni's own values --------------------------------------------------------------------------


def test_the_defaults_name_no_contact_and_immunis_links_are_flagged():
    for platform in ("android", "ios"):
        document = immuni_defaults(platform)
        assert document["support_phone"] is None and document["support_email"] is None
        assert validation.immuni_leftovers(document) == [
            "Frequently asked questions",
            "Terms of use",
            "Privacy notice",
        ]
    document = immuni_defaults("ios")
    document.update(support_phone="800912491", support_email="cittadini@immuni.italia.it")
    for key in ("faq_url", "tou_url", "pn_url"):
        document[key] = {language: "https://www.salute.example/app" for language in document[key]}
    assert validation.immuni_leftovers(document) == [
        "Support phone number",
        "Support e-mail address",
    ]


def test_a_trailing_line_break_is_not_part_of_a_valid_value(initial_versions):
    """The patterns match whole values: "7\\n" is no hour, "AT\\n" no country code."""

    def change(document):
        document["support_phone_opening_time"] = "7\n"
        document["countries"] = {
            language: {f"{code}\n" if code == "AT" else code: name for code, name in names.items()}
            for language, names in document["countries"].items()
        }
        document["risk_exposure"]["ro\n"] = document["risk_exposure"]["en"]

    found = problems("android", change)
    assert found["support_phone_opening_time"] == ["An hour of the day, like 7 or 22:30."]
    assert found["countries"][0].startswith("it: AT\n is not a two-letter country code")
    assert found["risk_exposure"][0].startswith("ro\n: not a language code")
