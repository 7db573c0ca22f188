"""Filtering the audit trail: an invalid filter never lists more than was asked for."""

from __future__ import annotations

import pytest

from authority.audit.models import Action
from authority.audit.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(operator, other_operator) -> None:
    record_event(action=Action.OTP_REVOKED, actor=operator, target="code of operator one")
    record_event(action=Action.OTP_REVOKED, actor=other_operator, target="code of operator two")


def test_a_valid_filter_lists_only_matching_entries(trail, supervisor, signed_in):
    page = signed_in(supervisor).get("/audit/", {"actor": "operator-lazio"}).content.decode()

    assert "code of operator one" in page
    assert "code of operator two" not in page


def test_an_invalid_date_lists_nothing_rather_than_everything(trail, supervisor, signed_in):
    response = signed_in(supervisor).get(
        "/audit/", {"actor": "operator-lazio", "since": "2024-13-45"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid date." in page
    assert "No entries are listed until the filters are corrected." in page
    assert "code of operator two" not in page
    assert "code of operator one" not in page
    assert 'value="operator-lazio"' in page


def test_dates_in_the_wrong_order_list_nothing(trail, supervisor, signed_in):
    page = (
        signed_in(supervisor)
        .get("/audit/", {"since": "2026-05-02", "until": "2026-05-01"})
        .content.decode()
    )

    assert "The end date is before the start date." in page
    assert "code of operator" not in page


def test_only_a_page_number_is_no_filter_to_correct(trail, supervisor, signed_in):
    page = signed_in(supervisor).get("/audit/", {"page": "1"}).content.decode()

    assert "code of operator one" in page
    assert "code of operator two" in page
    assert "until the filters are corrected" not in page
