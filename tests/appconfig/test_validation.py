"""What the back office refuses to publish, each refusal with a message that names the
setting and says why (authority.appconfig.validation, through the draft service)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from authority.appconfig import catalogue, services
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
            {**immuni_defaults("android")["risk_exposure"], "pt": "Texto"},
            "The apps speak no pt.",
        ),
        (
            "risk_exposure",
            {**immuni_defaults("android")["risk_exposure"], "fr": "  "},
            "fr: needs a text of at most 5000 characters.",
        ),
        (
            "eu_dcc_deadlines",
            {"cbis": None},
            "cbis: each value is a whole number from 0 to 100000.",
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


def test_android_scores_may_go_up_to_the_full_gaen_range(initial_versions):
    assert problems("android", setter("exposure_info_minimum_risk_score", 300)) == {}


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
        "teks_packet_size@100-20000": [
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
            "a build is a number from 1 to 20000.",
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
