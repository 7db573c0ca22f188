"""The administrators' pages: every setting with its meaning, unit and range; refused values
beside their fields; a concurrent save shown, not lost; review, publication, scheduling,
overrides and rollback through the forms."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from authority.accounts.models import Role
from authority.appconfig import catalogue, selectors, services
from authority.appconfig.models import SettingsDraft, SettingsVersion
from authority.audit.models import Action, AuditEntry
from tests.appconfig.conftest import served

pytestmark = pytest.mark.django_db


def form_data(client, path: str) -> dict[str, str]:
    """What the browser would send back unchanged: every input and textarea of the form."""
    page = client.get(path).content.decode()
    form = page[page.index('data-testid="settings-form"') :]
    form = form[: form.index("</form>")]
    data: dict[str, str] = {}
    for match in re.finditer(r"<input ([^>]*)>", form):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))
        if "name" not in attributes:
            continue
        if attributes.get("type") == "checkbox":
            if "checked" in match.group(1):
                data[attributes["name"]] = "on"
            continue
        data[attributes["name"]] = _unescape(attributes.get("value", ""))
    for match in re.finditer(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[match.group(1)] = _unescape(match.group(2).removeprefix("\n"))
    return data


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def setting_block(page: str, name: str) -> str:
    start = page.index(f'id="setting-{name}"')
    following = page.find('class="setting field', start + 10)
    return page[start : following if following > 0 else len(page)]


@pytest.fixture
def admin_client(administrator, signed_in, initial_versions):
    return signed_in(administrator)


def test_every_setting_is_shown_with_its_meaning_unit_and_range(admin_client):
    page = admin_client.get("/app-settings/android/draft/").content.decode()
    for setting in catalogue.settings_for("android"):
        block = setting_block(page, setting.form_name)
        assert str(setting.label) in block
        assert setting.key in block
    packet = setting_block(page, "teks_packet_size")
    smallest = catalogue.SMALLEST_PACKET["android"]
    assert "Unit: bytes." in packet and f"Accepted: From {smallest} to 150000." in packet
    detection = setting_block(page, "exposure_detection_period")
    assert "Accepted: From 1 hour to 7 days." in detection and "Saved value: 4 hours." in detection
    assert "allowed_regions_self_upload" not in page  # an iOS setting
    ios = admin_client.get("/app-settings/ios/draft/").content.decode()
    assert "Accepted: From 1 to 255." in setting_block(ios, "exposure_info_minimum_risk_score")


def test_the_form_sends_back_the_document_in_force_unchanged(admin_client):
    """Saving without touching anything stores exactly the version in force: the form loses
    and alters nothing (maps, lists, decimals, empty optional values)."""
    for platform in ("android", "ios"):
        data = form_data(admin_client, f"/app-settings/{platform}/draft/")
        response = admin_client.post(f"/app-settings/{platform}/draft/", {**data, "save": ""})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"] == f"/app-settings/{platform}/draft/"
        draft = SettingsDraft.objects.get(platform=platform)
        assert draft.document == selectors.version_in_force(platform).document


def test_a_refused_value_is_shown_beside_its_field_and_nothing_is_saved(admin_client):
    data = form_data(admin_client, "/app-settings/android/draft/")
    data["teks_packet_size"] = "200000"
    data["exposure_configuration__attenuation_thresholds_0"] = "80"
    response = admin_client.post("/app-settings/android/draft/", data)
    assert response.status_code == 200
    page = response.content.decode()
    packet = setting_block(page, "teks_packet_size")
    assert "Must be at most 150000: the device API would refuse the padding" in packet
    assert 'aria-invalid="true"' in packet and 'value="200000"' in packet
    thresholds = setting_block(page, "exposure_configuration__attenuation_thresholds")
    assert "The first threshold must be lower than the second." in thresholds
    assert "Nothing was saved: some values are refused." in page
    assert not SettingsDraft.objects.exists()


def test_a_value_that_is_not_a_number_is_refused_beside_its_field(admin_client):
    data = form_data(admin_client, "/app-settings/ios/draft/")
    data["operational_info_without_exposure_sampling_rate"] = "sixty percent"
    page = admin_client.post("/app-settings/ios/draft/", data).content.decode()
    assert "Enter a number." in setting_block(
        page, "operational_info_without_exposure_sampling_rate"
    )


def test_decimals_may_be_written_with_a_comma_in_italian(admin_client):
    admin_client.cookies["django_language"] = "it"
    data = form_data(admin_client, "/app-settings/ios/draft/")
    assert data["operational_info_without_exposure_sampling_rate"] == "0,6"
    data["operational_info_without_exposure_sampling_rate"] = "0,5"
    response = admin_client.post("/app-settings/ios/draft/", data)
    assert response.status_code == 302
    assert response["Location"] == "/app-settings/ios/draft/"
    assert (
        SettingsDraft.objects.get().document["operational_info_without_exposure_sampling_rate"]
        == 0.5
    )


def test_a_concurrent_save_is_shown_and_nothing_of_either_is_lost(
    administrator, make_user, signed_in, initial_versions
):
    me = signed_in(administrator)
    colleague = make_user("carla", Role.ADMINISTRATOR, None)
    mine = form_data(me, "/app-settings/android/draft/")  # revision 0: no draft yet
    theirs = form_data(signed_in(colleague), "/app-settings/android/draft/")
    theirs["teks_packet_size"] = "130000"
    response = signed_in(colleague).post("/app-settings/android/draft/", theirs)
    assert response.status_code == 302
    assert response["Location"] == "/app-settings/android/draft/"

    mine["teks_packet_size"] = "120000"
    response = me.post("/app-settings/android/draft/", mine)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Carla saved the draft at" in page and "your values were not saved" in page
    differences = page[page.index('data-testid="conflict-differences"') :]
    assert "130000" in differences[:3000] and "120000" in differences[:3000]
    assert 'value="120000"' in setting_block(page, "teks_packet_size")  # mine, still in the form
    assert SettingsDraft.objects.get().document["teks_packet_size"] == 130_000  # theirs, saved
    # The form now carries the current revision: saving again keeps mine, deliberately.
    revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
    assert revision == str(SettingsDraft.objects.get().revision)
    mine["revision"] = revision
    response = me.post("/app-settings/android/draft/", mine)
    assert response.status_code == 302
    assert response["Location"] == "/app-settings/android/draft/"
    assert SettingsDraft.objects.get().document["teks_packet_size"] == 120_000


def draft_with(administrator, platform="android", **values):
    content, revision = services.draft_content(platform)
    return services.save_draft(
        platform=platform,
        actor=administrator,
        content=services.Content({**content.document, **values}),
        revision=revision,
    )


def closest_scores_of_eight(platform: str) -> dict[str, Any]:
    """The exposure configuration with the score of the closest range (10 dB or less) raised
    to 8: no example of the preview is that close, and higher warning thresholds become
    reachable (8 x 5)."""
    configuration = services.draft_content(platform)[0].document["exposure_configuration"]
    scores = [*configuration["attenuation_bucket_scores"][:7], 8]
    return {**configuration, "attenuation_bucket_scores": scores}


def test_the_review_shows_the_diff_and_the_risk_preview(admin_client, administrator):
    draft_with(
        administrator,
        teks_packet_size=120_000,
        exposure_info_minimum_risk_score=30,
        exposure_configuration=closest_scores_of_eight("android"),
    )
    page = admin_client.get("/app-settings/android/draft/review/").content.decode()
    changes = page[
        page.index('data-testid="changes"') : page.index(
            "</table>", page.index('data-testid="changes"')
        )
    ]
    assert (
        "Size every request is padded to" in changes and "110000" in changes and "120000" in changes
    )
    assert "Risk score that warns the user" in changes
    row = page[page.index('data-example="close-long"') :]
    row = row[: row.index("</tr>")]
    assert re.search(r"25</span> · <strong[^>]*>warns", row)
    assert re.search(r"25</span> · <span[^>]*>no warning", row)
    assert 'data-chart-url="/app-settings/android/preview.json"' in page


def test_the_preview_figure_compares_the_draft_with_the_version_in_force(
    admin_client, administrator
):
    draft_with(
        administrator,
        "ios",
        exposure_info_minimum_risk_score=16,
        exposure_configuration=closest_scores_of_eight("ios"),
    )
    figure = admin_client.get("/app-settings/ios/preview.json").json()["figure"]
    bars = [trace for trace in figure["data"] if trace["type"] == "bar"]
    assert [trace["name"] for trace in bars] == ["In force (version 1)", "Draft"]
    assert bars[0]["y"][0] == bars[1]["y"][0] == 15  # iOS: 3 x 5
    assert bars[0]["customdata"][0] == "warns" and bars[1]["customdata"][0] == "no warning"
    lines = [trace for trace in figure["data"] if trace["type"] == "scatter"]
    assert [line["y"][0] for line in lines] == [12, 16]


def test_publishing_needs_the_confirmation(admin_client, administrator):
    draft = draft_with(administrator, teks_packet_size=120_000)
    data = {"revision": draft.revision, "in_force": 1, "when": "now", "note": ""}
    page = admin_client.post("/app-settings/android/draft/review/", data).content.decode()
    assert "Tick the box to confirm the publication." in page
    assert SettingsVersion.objects.filter(platform="android").count() == 1


def test_publishing_from_the_review_page(
    admin_client, administrator, client, django_capture_on_commit_callbacks
):
    draft = draft_with(administrator, teks_packet_size=120_000)
    data = {
        "revision": draft.revision,
        "in_force": 1,
        "when": "now",
        "note": "lighter",
        "confirm": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/app-settings/android/draft/review/", data, follow=True)
    assert "Version 2 published and in force." in response.content.decode()
    assert served(client, "android")["teks_packet_size"] == 120_000
    assert AuditEntry.objects.get(action=Action.APP_SETTINGS_PUBLISHED).details["note"] == "lighter"


def test_scheduling_from_the_review_page(admin_client, administrator):
    draft = draft_with(administrator, teks_packet_size=120_000)
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {
        "revision": draft.revision,
        "in_force": 1,
        "when": "later",
        "activates_on": tomorrow.isoformat(),
        "activates_time": "06:00",
        "confirm": "on",
    }
    page = admin_client.post(
        "/app-settings/android/draft/review/", data, follow=True
    ).content.decode()
    assert "Version 2 published: it comes into force on" in page
    version = SettingsVersion.objects.get(platform="android", number=2)
    assert timezone.localtime(version.activates_at).date() == tomorrow
    assert timezone.localtime(version.activates_at).hour == 6
    assert 'data-testid="scheduled-2"' in page


def test_a_stale_review_is_refused(admin_client, administrator):
    draft = draft_with(administrator, teks_packet_size=120_000)
    data = {"revision": draft.revision - 1 or 99, "in_force": 1, "when": "now", "confirm": "on"}
    page = admin_client.post(
        "/app-settings/android/draft/review/", data, follow=True
    ).content.decode()
    assert "The draft changed since you reviewed it" in page
    assert SettingsVersion.objects.filter(platform="android").count() == 1


def test_an_override_stores_only_what_differs(admin_client, administrator):
    path = "/app-settings/android/draft/overrides/new/"
    data = form_data(admin_client, path)
    data.update(from_build="100", teks_packet_size="120000")
    response = admin_client.post(path, data)
    assert response.status_code == 302
    assert response["Location"] == "/app-settings/android/draft/"  # back to the draft
    draft = SettingsDraft.objects.get()
    assert draft.overrides == [
        {"from_build": 100, "to_build": None, "values": {"teks_packet_size": 120_000}}
    ]
    page = admin_client.get(response["Location"]).content.decode()
    assert "Build override saved in the draft." in page
    assert "Builds 100 and later: Size every request is padded to = 120000" in page


def test_an_override_refusal_is_shown_beside_its_field(admin_client):
    path = "/app-settings/android/draft/overrides/new/"
    data = form_data(admin_client, path)
    data.update(from_build="100", to_build="50", teks_packet_size="120000")
    page = admin_client.post(path, data).content.decode()
    assert "The last build cannot be before the first." in setting_block(page, "to_build")
    data.update(to_build="", teks_max_info_count="700")
    page = admin_client.post(path, data).content.decode()
    assert (
        "Builds 100 to 2100000000: Must be at most 600: the device API refuses uploads with "
        "more exposure details." in setting_block(page, "teks_max_info_count")
    )
    data.update(from_build="100", teks_max_info_count="600", teks_packet_size="110000")
    page = admin_client.post(path, data).content.decode()
    assert "These values are the same as for every build" in page
    assert not SettingsDraft.objects.exists()


def test_the_version_page_lists_every_value_and_rolls_back(
    admin_client, publish, client, django_capture_on_commit_callbacks
):
    publish("ios", lambda d: d.update(teks_packet_size=120_000))
    page = admin_client.get("/app-settings/ios/versions/1/").content.decode()
    for setting in catalogue.settings_for("ios"):
        assert setting.key in page
    rollback = page[page.index('data-testid="rollback-changes"') :][:3000]
    assert "120000" in rollback and "110000" in rollback
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/app-settings/ios/versions/1/rollback/", {"in_force": "2"}, follow=True
        )
    assert "Version 3 is in force: the settings of version 1 are back." in response.content.decode()
    assert served(client, "ios")["teks_packet_size"] == 110_000


def test_discarding_the_draft(admin_client, administrator):
    draft = draft_with(administrator, teks_packet_size=120_000)
    admin_client.post("/app-settings/android/draft/discard/", {"revision": draft.revision})
    assert not SettingsDraft.objects.exists()


def test_the_pages_speak_italian(admin_client):
    admin_client.cookies["django_language"] = "it"
    page = admin_client.get("/app-settings/android/draft/").content.decode()
    assert "Modifica le impostazioni Android" in page
    assert "Dimensione a cui viene riempita ogni richiesta" in page
    assert "Accettati: da 1 ora a 7 giorni." in setting_block(page, "exposure_detection_period")


# --- The rules taken from the shipped apps, beside their fields ----------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "teks_packet_size",
            "100000",
            "Too small: with up to 84 exposure summaries and 600 exposure details, a positive "
            "user&#x27;s upload can take 109324 bytes",
        ),
        (
            "dummy_teks_request_probabilities",
            "0,95\n1",
            "The last value must be below 1: phones use it for every further request",
        ),
        (
            "exposure_configuration__transmission_risk_bucket_scores_0",
            "2",
            "The eight scores must be equal",
        ),
        (
            "exposure_info_minimum_risk_score",
            "26",
            "No exposure can score this much: with these lists the highest score is 25",
        ),
        (
            "pn_url_0",
            "https://www.salute.gov.it/privacy-città.html",
            "it: iPhones cannot read this address (it has characters an address must encode): "
            "write it as https://www.salute.gov.it/privacy-citt%C3%A0.html",
        ),
        (
            "eu_dcc_deadlines",
            "cbis = 540",
            "Missing vaccine_first_dose, vaccine_fully_completed, vaccine_booster",
        ),
    ],
)
def test_the_apps_rules_are_shown_beside_their_fields(admin_client, field, value, message):
    data = form_data(admin_client, "/app-settings/android/draft/")
    data[field] = value
    response = admin_client.post("/app-settings/android/draft/", data)
    assert response.status_code == 200
    block = setting_block(response.content.decode(), re.sub(r"_\d$", "", field))
    assert message in block
    assert not SettingsDraft.objects.exists()


def test_the_build_inputs_take_each_platforms_builds(admin_client):
    android = admin_client.get("/app-settings/android/draft/").content.decode()
    assert 'max="2100000000"' in setting_block(android, "newest_build")
    ios = admin_client.get("/app-settings/ios/draft/").content.decode()
    assert 'max="20000"' in setting_block(ios, "newest_build")
    override = admin_client.get("/app-settings/android/draft/overrides/new/").content.decode()
    assert 'max="2100000000"' in setting_block(override, "from_build")
    assert 'max="2100000000"' in setting_block(override, "to_build")
    data = form_data(admin_client, "/app-settings/ios/draft/")
    data["newest_build"] = "2600123"
    page = admin_client.post("/app-settings/ios/draft/", data).content.decode()
    assert "A build number from 1 to 20000." in setting_block(page, "newest_build")


def test_android_phone_languages_get_the_english_texts(admin_client):
    path = "/app-settings/android/draft/"
    assert (
        'id="setting-phone_languages"'
        not in admin_client.get("/app-settings/ios/draft/").content.decode()
    )
    data = form_data(admin_client, path)
    assert data["phone_languages"] == ""
    data["phone_languages"] = "pt-BR, ro"
    page = admin_client.post(path, data).content.decode()
    assert "pt-br: not a language code as phones report it" in setting_block(
        page, "phone_languages"
    )
    assert 'value="pt-BR, ro"' in setting_block(page, "phone_languages")  # what was typed stays
    data["phone_languages"] = "ro, AR fil ro"
    response = admin_client.post(path, data)
    assert response.status_code == 302
    document = SettingsDraft.objects.get().document
    for key in ("risk_exposure", "eudcc_expiration"):
        assert set(document[key]) == {"it", "en", "de", "fr", "es", "ar", "fil", "ro"}
        assert document[key]["ro"] == document[key]["en"]
    assert set(document["faq_url"]) == {"it", "en", "de", "fr", "es"}
    assert 'value="ar, fil, ro"' in setting_block(
        admin_client.get(path).content.decode(), "phone_languages"
    )
    # An override keeps them, with its own English text.
    override_path = "/app-settings/android/draft/overrides/new/"
    override = form_data(admin_client, override_path)
    override.update(from_build="2600000", risk_exposure_1="Follow your doctor's advice.")
    assert admin_client.post(override_path, override).status_code == 302
    values = SettingsDraft.objects.get().overrides[0]["values"]
    assert values["risk_exposure"]["fil"] == "Follow your doctor's advice."
    assert list(values) == ["risk_exposure"]


def test_immunis_own_links_are_flagged_until_replaced(admin_client, administrator):
    page = admin_client.get("/app-settings/ios/").content.decode()
    flagged = page[page.index('data-testid="immuni-leftovers"') :]
    flagged = flagged[: flagged.index("</div>")]
    assert "Privacy notice" in flagged and "Support phone number" not in flagged
    own = {language: "https://www.salute.example/app" for language in catalogue.LANGUAGES}
    draft_with(administrator, "ios", faq_url=own, tou_url=own, pn_url=own)
    review = admin_client.get("/app-settings/ios/draft/review/").content.decode()
    assert 'data-testid="immuni-leftovers"' not in review
