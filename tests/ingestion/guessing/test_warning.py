"""While someone guesses codes, /metrics and the administrators' pages say so (national figures
only), and stop saying so when it is over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from tests.ingestion.guessing.phones import guess_from

pytestmark = pytest.mark.django_db

WARNING = 'data-testid="guessing-warning"'
PAGES = ["/", "/statistics/"]


def gauges() -> dict[str, float]:
    text = Client().get("/metrics").content.decode()
    return {
        name: float(value)
        for name, value in (
            line.split() for line in text.splitlines() if line.startswith("authority_guessing_")
        )
    }


def test_the_gauges_and_the_warning_show_an_attack_and_go_when_it_ends(
    regions, administrator, signed_in, any_cache, clock
):
    client = signed_in(administrator)
    assert gauges() == {
        "authority_guessing_failed_lookups": 0,
        "authority_guessing_networks_throttled": 0,
        "authority_guessing_guard_active": 0,
    }
    assert all(WARNING not in client.get(page).content.decode() for page in PAGES)

    assert guess_from(0, 31) == {401: 30, 429: 1}
    assert guess_from(1, 31) == {401: 30, 429: 1}
    assert guess_from(2, 5) == {401: 5}  # within its budget: not throttled
    assert gauges() == {
        "authority_guessing_failed_lookups": 50,  # 65, in steps of 50
        "authority_guessing_networks_throttled": 2,
        "authority_guessing_guard_active": 0,
    }
    for page in PAGES:
        html = client.get(page).content.decode()
        assert WARNING in html, page
        assert "65 code checks failed in the last 10 minutes." in html
        assert "2 networks are slowed down or refused for failing too often." in html
        assert "national guard" not in html

    clock.shift(timedelta(minutes=5))  # each throttled network may look up a code again
    assert gauges()["authority_guessing_networks_throttled"] == 0
    assert gauges()["authority_guessing_failed_lookups"] == 50
    clock.shift(timedelta(minutes=5))  # and the failures are more than 10 minutes old
    assert gauges()["authority_guessing_failed_lookups"] == 0
    assert all(WARNING not in client.get(page).content.decode() for page in PAGES)


def test_the_guard_shows_until_it_ends(
    regions, administrator, signed_in, settings, any_cache, clock
):
    settings.GUESSING_GUARD_THRESHOLD = 20
    settings.GUESSING_GUARD_DAILY_CAP = 5
    client = signed_in(administrator)
    for network in range(4):
        assert guess_from(network, 5) == {401: 5}
    for network in range(4):  # 20 failures: the guard is on, and these are at their cap
        assert guess_from(network, 1, first_host=5) == {429: 1}
    assert gauges() == {
        "authority_guessing_failed_lookups": 0,  # 20, below the first step of 50
        "authority_guessing_networks_throttled": 4,
        "authority_guessing_guard_active": 1,
    }
    html = client.get("/statistics/").content.decode()
    assert "The national guard is on" in html
    clock.shift(timedelta(minutes=60))
    assert gauges() == {
        "authority_guessing_failed_lookups": 0,
        "authority_guessing_networks_throttled": 0,
        "authority_guessing_guard_active": 0,
    }
    assert WARNING not in client.get("/statistics/").content.decode()


def test_only_administrators_are_warned(regions, supervisor, operator, signed_in, any_cache, clock):
    assert guess_from(0, 31)[429] == 1
    for user in (supervisor, operator):
        client = signed_in(user)
        assert WARNING not in client.get("/").content.decode()
    assert WARNING not in signed_in(supervisor).get("/statistics/").content.decode()
