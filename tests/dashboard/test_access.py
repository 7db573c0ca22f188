"""Who sees which statistics: supervisors their region only, administrators any region or the
country; operators and strangers nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from authority.accounts import permissions
from tests.dashboard.conftest import chart, export

pytestmark = pytest.mark.django_db

PAGES = [
    "/statistics/",
    "/statistics/charts/codes/",
    "/statistics/charts/codes/data.csv",
    "/statistics/charts/codes/data.json",
]


@pytest.mark.parametrize("path", PAGES)
def test_strangers_are_sent_to_the_login(path, db):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_operators_may_not_see_statistics(path, operator, signed_in):
    assert signed_in(operator).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_a_supervisor_may_not_ask_for_another_region(path, supervisor, signed_in, lombardia):
    assert signed_in(supervisor).get(path, {"region": lombardia.code}).status_code == 403


def test_a_supervisor_is_locked_to_their_region(supervisor, signed_in, count, lazio, lombardia):
    count("otp_redeemed", 14, region=lazio)
    count("otp_redeemed", 19, region=lombardia)
    client = signed_in(supervisor)
    page = client.get("/statistics/")
    assert page.status_code == 200
    assert page.context["scope"].region == lazio
    form = page.context["form"]
    assert form.fields["region"].disabled
    assert list(form.fields["region"].queryset) == [lazio]
    assert "Whole country" not in page.content.decode()
    assert export(client, "codes")["rows"][-1]["redeemed"] == 14
    assert export(client, "codes", region=lazio.code)["rows"][-1]["redeemed"] == 14


def test_an_administrator_chooses_any_region_or_the_country(
    administrator, signed_in, count, lazio, lombardia
):
    count("otp_redeemed", 14, region=lazio)
    count("otp_redeemed", 19, region=lombardia)
    client = signed_in(administrator)
    assert export(client, "codes")["rows"][-1]["redeemed"] == 33
    assert export(client, "codes", region=lombardia.code)["rows"][-1]["redeemed"] == 19
    page = client.get("/statistics/")
    assert "Whole country" in page.content.decode()
    assert page.context["form"].fields["region"].queryset.count() == 21


def test_an_unknown_region_is_refused(administrator, signed_in):
    assert signed_in(administrator).get("/statistics/", {"region": "99"}).status_code == 403


def test_unknown_charts_are_not_found(administrator, signed_in):
    assert signed_in(administrator).get("/statistics/charts/nothing/").status_code == 404
    assert signed_in(administrator).get("/statistics/charts/codes/data.xml").status_code == 404


def slugs_on_page(client: Client, **params: str) -> list[str]:
    return [item["chart"].slug for item in client.get("/statistics/", params).context["charts"]]


def test_traffic_and_comparisons_are_for_administrators(supervisor, signed_in, lazio):
    client = signed_in(supervisor)
    shown = slugs_on_page(client)
    assert "requests" not in shown and "regions" not in shown and "app-info-regions" not in shown
    assert "operators" in shown and "codes" in shown and "failed-checks" in shown
    for slug in ("requests", "regions", "app-info-regions"):
        assert client.get(f"/statistics/charts/{slug}/").status_code == 403
        assert client.get(f"/statistics/charts/{slug}/data.csv").status_code == 403


def test_administrators_see_comparisons_nationally_and_operators_per_region(
    administrator, signed_in, lazio
):
    client = signed_in(administrator)
    national = slugs_on_page(client)
    assert {"requests", "regions", "app-info-regions"} <= set(national)
    assert "operators" not in national
    assert client.get("/statistics/charts/operators/").status_code == 403
    regional = slugs_on_page(client, region=lazio.code)
    assert "operators" in regional and "requests" in regional
    assert "regions" not in regional
    assert chart(client, "operators", region=lazio.code)["empty"] is True


def test_the_navigation_offers_statistics_to_supervisors_and_administrators(
    operator, supervisor, administrator, signed_in
):
    assert "/statistics/" in signed_in(supervisor).get("/").content.decode()
    assert "/statistics/" in signed_in(administrator).get("/").content.decode()
    assert "/statistics/" not in signed_in(operator).get("/").content.decode()


def test_the_permission_helpers_across_the_cast(
    operator, supervisor, foreign_supervisor, administrator, lazio, lombardia
):
    assert [permissions.can_view_statistics(u) for u in (operator, supervisor, administrator)] == [
        False,
        True,
        True,
    ]
    assert list(permissions.statistics_regions(supervisor)) == [lazio]
    assert list(permissions.statistics_regions(foreign_supervisor)) == [lombardia]
    assert not permissions.statistics_regions(operator).exists()
    assert permissions.statistics_regions(administrator).count() == 21
    assert permissions.can_view_operator_statistics(supervisor, lazio)
    assert not permissions.can_view_operator_statistics(supervisor, lombardia)
    assert not permissions.can_view_operator_statistics(supervisor, None)
    assert not permissions.can_view_operator_statistics(operator, lazio)
    assert permissions.can_view_operator_statistics(administrator, lombardia)
    assert permissions.can_view_device_traffic(administrator)
    assert not permissions.can_view_device_traffic(supervisor)
    assert permissions.can_compare_regions(administrator)
    assert not permissions.can_compare_regions(supervisor)


def test_an_inactive_supervisor_sees_nothing(supervisor, signed_in):
    client = signed_in(supervisor)
    supervisor.is_active = False
    supervisor.save()
    assert not permissions.can_view_statistics(supervisor)
    response = client.get("/statistics/")
    assert response.status_code == 302  # signed out: a deactivated account's session ends
    assert response["Location"] == "/accounts/login/?next=%2Fstatistics%2F"
