"""GET /v1/settings: what the apps download, checked against the apps' own models, validated
as Immuni's configuration service validated its query, and served without a database query."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from authority.appconfig import serving
from authority.appconfig.catalogue import settings_for
from tests.appconfig import app_models
from tests.appconfig.conftest import get_settings, served

pytestmark = pytest.mark.django_db

BUILDS = [1, 2, 99, 100, 1500, 20000]
# Android builds are the app's versionCode: Immuni 1.0.0 was 1,000,000 and up, 2.6.0 2,600,000
# and up (immuni-app-android build.gradle); Google Play's largest is 2,100,000,000.
ANDROID_BUILDS = [1_000_123, 2_600_000, 2_600_123, 2_100_000_000]


@pytest.mark.parametrize(
    ("platform", "build"),
    [
        *((platform, build) for platform in ("android", "ios") for build in BUILDS),
        *(("android", build) for build in ANDROID_BUILDS),
    ],
)
def test_the_answer_is_what_the_apps_models_parse(client, initial_versions, platform, build):
    document = served(client, platform, build)
    assert app_models.problems(platform, document) == []


@pytest.mark.parametrize("build", ANDROID_BUILDS)
def test_an_android_version_code_gets_the_android_document(client, initial_versions, build):
    """Deliberate difference: Immuni's MAX_ALLOWED_BUILD default (20,000) refused every build
    the Android app sends, so no Android phone could load its settings nor check for
    exposures (its worker retries until the settings come)."""
    response = get_settings(client, "android", build)
    assert response.status_code == 200
    assert json.loads(response.content) == served(client, "android", 1)
    assert response["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_a_build_above_the_platforms_highest_is_refused(client, initial_versions, platform):
    highest = {"android": 2_100_000_000, "ios": 20_000}[platform]
    assert get_settings(client, platform, highest).status_code == 200
    response = get_settings(client, platform, highest + 1)
    assert response.status_code == 400
    assert response.json() == {
        "error_code": 1001,
        "message": f"build: a whole number from 1 to {highest}.",
    }


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_every_field_the_app_requires_is_served_and_no_other(client, initial_versions, platform):
    document = served(client, platform)
    required = set(app_models.SCHEMAS[platform]["required"])
    assert required <= set(document)
    # What is served is what the pages edit: each key is a setting of this platform.
    assert set(document) == {setting.top_level for setting in settings_for(platform)}


def test_the_schemas_catch_what_an_app_would_refuse(client, initial_versions):
    """The schemas are not a formality: each kind of mistake an app trips on is caught."""
    android = served(client, "android")
    broken = json.loads(json.dumps(android))
    del broken["teks_packet_size"]
    broken["minimum_build_version"] = 2**31
    broken["support_phone_opening_time"] = None
    broken["exposure_configuration"]["minimum_risk_score"] = 1.0
    assert app_models.problems("android", broken) == [
        "(document): 'teks_packet_size' is a required property",
        "exposure_configuration/minimum_risk_score: 1.0 is not of type 'integer'",
        "minimum_build_version: 2147483648 is greater than the maximum of 2147483647",
        "support_phone_opening_time: None is not of type 'string'",
    ]
    ios = served(client, "ios")
    ios["exposure_configuration"]["attenuation_bucket_scores"][0] = 256
    ios["faq_url"]["it"] = "not a url"
    ios["eu_dcc_deadlines"]["cbis"] = None
    assert len(app_models.problems("ios", ios)) == 3
    # What the strict URL(string:) of apps built before iOS 17 gives nil for.
    for address in (
        "https://a.it/città",
        "https://a.it/x|y",
        "https://a.it/100%",
        "https://a b.it/",
    ):
        ios = served(client, "ios")
        ios["pn_url"]["de"] = address
        assert app_models.problems("ios", ios) == [f"pn_url/de: {address!r} is not a 'uri'"], (
            address
        )
    android = served(client, "android")
    del android["eudcc_expiration"]["es"]
    assert app_models.problems("android", android) == [
        "eudcc_expiration: 'es' is a required property"
    ]


def test_platforms_get_their_own_documents(client, initial_versions):
    android, ios = served(client, "android"), served(client, "ios")
    assert android["exposure_info_minimum_risk_score"] == 20
    assert ios["exposure_info_minimum_risk_score"] == 12
    assert "attenuation_weight" in ios["exposure_configuration"]
    assert "attenuation_weight" not in android["exposure_configuration"]
    assert "reopen_reminder" in android and "reopen_reminder" not in ios


def test_cache_control_is_public_for_an_hour_as_immuni(client, initial_versions):
    # Source: immuni-backend-app-configuration tests/apis/test_settings.py (test_get_settings)
    response = get_settings(client, "ios", 1)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Content-Type"] == "application/json"


def test_the_max_age_is_a_setting(client, initial_versions, settings):
    settings.APP_SETTINGS_MAX_AGE = 600
    assert get_settings(client, "android", 1)["Cache-Control"] == "public, max-age=600"


def test_the_answer_is_the_same_in_every_language(client, initial_versions):
    english = get_settings(client, "android", 5, HTTP_ACCEPT_LANGUAGE="en")
    italian = get_settings(client, "android", 5, HTTP_ACCEPT_LANGUAGE="it")
    assert english.content == italian.content
    assert "Accept-Language" not in english.get("Vary", "")
    assert not english.has_header("Content-Language")


def test_if_none_match_star_matches_the_current_document(client, initial_versions):
    """RFC 9110 13.1.2: "*" matches any current representation."""
    response = get_settings(client, "ios", 5, HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 304
    assert response["ETag"] == get_settings(client, "ios", 5)["ETag"]


def test_an_unchanged_document_is_answered_304_to_its_etag(client, initial_versions):
    first = get_settings(client, "android", 5)
    again = get_settings(client, "android", 5, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "public, max-age=3600"


def test_head_answers_the_headers(client, initial_versions):
    response = client.head("/v1/settings?platform=android&build=1")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_immuni_app_configuration_method_not_allowed(client, initial_versions, method):
    # Source: immuni-backend-app-configuration tests/apis/test_settings.py
    # (test_otp_method_not_allowed); HEAD is allowed here, like every download.
    response = getattr(client, method)("/v1/settings?platform=ios&build=1")
    assert response.status_code == 405
    assert response.json()["error_code"] == 1003
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "build",
    [
        "0",
        "-1",
        "None",
        "[]",
        "{}",
        "-100",
        "string",
        "1.2",
        "-1.0",
        "int('1')",
        "23456789876543234567898765",
        "20001",
        "True",
        "False",
        "true",
        "",
        "1e3",
        "0x10",
    ],
)
def test_immuni_app_configuration_settings_raise_for_wrong_build(client, initial_versions, build):
    # Source: immuni-backend-app-configuration tests/apis/test_settings.py
    # (test_settings_raise_for_wrong_build)
    response = get_settings(client, "ios", build)
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == 1001
    assert body["message"] == "build: a whole number from 1 to 20000."
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("build", ["1", "20000", "007", "+5", " 5", "1_0"])
def test_builds_are_read_as_immuni_read_them(client, initial_versions, build):
    """Immuni's marshmallow Integer field read the text with Python's int()."""
    assert get_settings(client, "android", build).status_code == 200
    assert get_settings(client, "ios", build).status_code == 200


@pytest.mark.parametrize(
    "build",
    ["0", "-1", "None", "1.2", "int('1')", "23456789876543234567898765", "2100000001", "true", ""],
)
def test_android_builds_are_read_with_immunis_rules_up_to_the_largest_version_code(
    client, initial_versions, build
):
    """Immuni's test_settings_raise_for_wrong_build cases, on Android, where 20001 is a
    valid build here (a deliberate difference: Android builds are version codes)."""
    response = get_settings(client, "android", build)
    assert response.status_code == 400
    assert response.json() == {
        "error_code": 1001,
        "message": "build: a whole number from 1 to 2100000000.",
    }
    assert get_settings(client, "android", "20001").status_code == 200


@pytest.mark.parametrize(
    "platform", ["windows_phone", "blackberry", "-1", "None", "[]", "{}", "IOS", "Android", ""]
)
def test_immuni_app_configuration_settings_raise_for_wrong_platform(
    client, initial_versions, platform
):
    # Source: immuni-backend-app-configuration tests/apis/test_settings.py
    # (test_settings_raise_for_wrong_platform; there the build was always 0, so the platform
    # was never what failed: here the build is valid).
    response = get_settings(client, platform, 1)
    assert response.status_code == 400
    assert response.json() == {"error_code": 1001, "message": "platform: android or ios."}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("platform=ios", "Missing query parameter: build."),
        ("build=1", "Missing query parameter: platform."),
        ("", "Missing query parameter: build, platform."),
        ("platform=ios&build=1&another=parameter", "Unknown query parameter: another."),
    ],
)
def test_immuni_app_configuration_settings_raise_if_wrong_parameters(
    client, initial_versions, query, message
):
    # Source: immuni-backend-app-configuration tests/apis/test_settings.py
    # (test_settings_raise_if_wrong_parameters)
    response = client.get(f"/v1/settings?{query}")
    assert response.status_code == 400
    assert response.json() == {"error_code": 1001, "message": message}


def test_immuni_app_configuration_settings_raise_if_multiple_values(client, initial_versions):
    # Source: immuni-backend-app-configuration tests/apis/test_settings.py
    # (test_settings_raise_if_multiple_values)
    response = client.get("/v1/settings?platform=ios&build=1&build=2")
    assert response.status_code == 400
    assert response.json() == {"error_code": 1001, "message": "build: give it once."}


def test_no_database_query_per_request_at_steady_state(client, initial_versions, monkeypatch):
    monkeypatch.setattr(serving, "monotonic", lambda: 1000.0)  # within one recheck interval
    served(client, "android", 3)  # the process builds its copy: a few queries, once
    with CaptureQueriesContext(connection) as queries:
        for build in (1, 50, 120, 20000):
            served(client, "android", build)
            served(client, "ios", build)
        served(client, "android", 2_600_123)
    assert len(queries) == 0


def test_a_process_asks_whether_something_changed_once_per_interval(
    client, initial_versions, settings, monkeypatch
):
    settings.APP_SETTINGS_RECHECK_SECONDS = 2
    clock = [1000.0]
    monkeypatch.setattr(serving, "monotonic", lambda: clock[0])
    served(client, "android")
    clock[0] += 3
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            served(client, "android")
    # One look at the generation number; it has not moved, so nothing is rebuilt.
    assert len(queries) == 1
    assert "appconfig_settingsgeneration" in queries[0]["sql"]


def test_without_any_version_the_answer_is_404(client, db):
    from authority.appconfig.models import SettingsVersion

    SettingsVersion.objects.all().delete()
    response = get_settings(client, "android", 1)
    assert response.status_code == 404
    assert response.json()["error_code"] == 1002
    assert response["Cache-Control"] == "no-store"
