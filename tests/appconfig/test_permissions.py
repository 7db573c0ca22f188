"""Who may reach the app settings pages: national administrators only; supervisors, operators
of any region and anonymous visitors are refused. The phones' endpoint is public."""

from __future__ import annotations

import pytest

from authority.accounts import permissions
from tests.matrix import LOGIN, Outcome, Row, assert_outcome, client_as, matrix

pytestmark = pytest.mark.django_db

REFUSED: list[Outcome] = [LOGIN, 403, 403, 403, 403]

# (method, path, outcome per actor in tests/matrix.py ACTORS order); {draft}: a draft exists.
MATRIX: list[Row] = [
    ("get", "/app-settings/", [*REFUSED, 200]),
    ("get", "/app-settings/android/", [*REFUSED, 200]),
    ("get", "/app-settings/ios/", [*REFUSED, 200]),
    ("get", "/app-settings/android/draft/", [*REFUSED, 200]),
    ("post", "/app-settings/android/draft/", [*REFUSED, 200]),
    ("get", "/app-settings/ios/draft/review/", [*REFUSED, 200]),
    ("post", "/app-settings/ios/draft/review/", [*REFUSED, 200]),
    ("post", "/app-settings/ios/draft/discard/", [*REFUSED, 302]),
    ("get", "/app-settings/android/draft/overrides/new/", [*REFUSED, 200]),
    ("post", "/app-settings/android/draft/overrides/new/", [*REFUSED, 200]),
    ("post", "/app-settings/android/draft/overrides/0/delete/", [*REFUSED, 404]),
    ("get", "/app-settings/ios/preview.json", [*REFUSED, 200]),
    ("get", "/app-settings/android/versions/1/", [*REFUSED, 200]),
    ("post", "/app-settings/android/versions/1/rollback/", [*REFUSED, 302]),
    ("post", "/app-settings/android/versions/1/cancel/", [*REFUSED, 302]),
    ("get", "/app-settings/windows/", [*REFUSED, 404]),
    ("get", "/v1/settings?platform=android&build=1", [200, 200, 200, 200, 200, 200]),
]


@pytest.fixture
def cast(staff, initial_versions):
    from authority.appconfig import services

    content, _ = services.draft_content("ios")
    services.save_draft(
        platform="ios",
        actor=staff["administrator"],
        content=services.Content({**content.document, "teks_packet_size": 120_000}),
        revision=0,
    )
    return staff


@matrix(MATRIX)
def test_permission_matrix(cast, signed_in, method, path, outcome, actor):
    response = getattr(client_as(actor, cast.get(actor), signed_in), method)(path)
    assert_outcome(response, outcome)


def test_only_administrators_see_the_navigation_entry(staff, signed_in):
    for actor, user in staff.items():
        page = signed_in(user).get("/").content.decode()
        assert ('href="/app-settings/"' in page) == (actor == "administrator")
        assert permissions.can_manage_app_settings(user) == (actor == "administrator")


def test_a_deactivated_administrator_is_refused(administrator, signed_in, initial_versions):
    client = signed_in(administrator)
    administrator.is_active = False
    administrator.save()
    response = client.get("/app-settings/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fapp-settings%2F"
