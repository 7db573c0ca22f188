"""Who may do what with codes and API keys: every page and action x every role x region."""

from __future__ import annotations

import pytest
from django.test import Client

from authority.accounts import permissions
from authority.accounts.models import Role
from authority.otps import services
from tests.matrix import LOGIN, Row, assert_outcome, client_as, matrix
from tests.otps.conftest import days_ago

pytestmark = pytest.mark.django_db


# {own}: a code "operator" gave; {colleague}: a code another Lazio operator gave;
# {key}: an API key of Lazio.
MATRIX: list[Row] = [
    ("get", "/codes/", [LOGIN, 200, 200, 200, 200, 200]),
    ("get", "/codes/issue/", [LOGIN, 200, 200, 200, 200, 403]),
    ("post", "/codes/issue/", [LOGIN, 200, 200, 200, 200, 403]),
    ("get", "/codes/authorize/", [LOGIN, 200, 200, 200, 200, 403]),
    ("post", "/codes/authorize/", [LOGIN, 200, 200, 200, 200, 403]),
    ("post", "/codes/{own}/revoke/", [LOGIN, 302, 404, 302, 404, 302]),
    ("post", "/codes/{colleague}/revoke/", [LOGIN, 404, 404, 302, 404, 302]),
    ("get", "/codes/{own}/revoke/", [LOGIN, 405, 405, 405, 405, 405]),
    ("get", "/codes/api-keys/", [LOGIN, 403, 403, 200, 200, 200]),
    ("post", "/codes/api-keys/", [LOGIN, 403, 403, 200, 200, 200]),
    ("post", "/codes/api-keys/{key}/revoke/", [LOGIN, 403, 403, 302, 404, 302]),
]


@pytest.fixture
def cast(staff, make_user, lazio):
    colleague = make_user("colleague-lazio", Role.OPERATOR, lazio)
    return {
        **staff,
        "own": services.issue_otp(operator=staff["operator"], onset_date=days_ago(1)).otp.pk,
        "colleague": services.issue_otp(operator=colleague, onset_date=days_ago(1)).otp.pk,
        "key": services.create_api_key(
            actor=staff["supervisor"], region=lazio, name="HIS"
        ).api_key.pk,
    }


@matrix(MATRIX)
def test_permission_matrix(cast, signed_in, method, path, outcome, actor):
    response = getattr(client_as(actor, cast.get(actor), signed_in), method)(path.format(**cast))
    assert_outcome(response, outcome)


def test_only_administrators_are_warned_of_unusual_issuance(operator, supervisor, administrator):
    assert not permissions.can_view_issuance_warnings(operator)
    assert not permissions.can_view_issuance_warnings(supervisor)
    assert permissions.can_view_issuance_warnings(administrator)


def test_api_keys_can_be_made_for_the_own_region_only(
    supervisor, administrator, operator, lazio, lombardia
):
    assert list(permissions.api_key_regions(supervisor)) == [lazio]
    assert {lazio, lombardia} <= set(permissions.api_key_regions(administrator))
    assert not permissions.api_key_regions(operator).exists()


def test_deactivated_operators_cannot_issue(operator):
    operator.is_active = False
    assert not permissions.can_issue_codes(operator)


def navigation_labels(client: Client, path: str = "/") -> dict[str, bool]:
    return {str(item["label"]): item["active"] for item in client.get(path).context["navigation"]}


def test_the_navigation_follows_the_role(operator, supervisor, administrator, signed_in):
    assert {"Issue a code", "Authorize a code", "Codes"} <= set(
        navigation_labels(signed_in(operator))
    )
    assert "API keys" not in navigation_labels(signed_in(operator))
    assert {"Issue a code", "Codes", "API keys"} <= set(navigation_labels(signed_in(supervisor)))
    admin_links = navigation_labels(signed_in(administrator))
    assert {"Codes", "API keys"} <= set(admin_links)
    assert "Issue a code" not in admin_links


def test_the_navigation_marks_only_the_current_page(supervisor, signed_in):
    client = signed_in(supervisor)
    links = navigation_labels(client, "/codes/issue/")
    assert [label for label, active in links.items() if active] == ["Issue a code"]
    links = navigation_labels(client, "/codes/")
    assert [label for label, active in links.items() if active] == ["Codes"]
    links = navigation_labels(client, "/")
    assert [label for label, active in links.items() if active] == ["Home"]
