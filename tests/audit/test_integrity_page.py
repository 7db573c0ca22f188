"""Administrators see on the audit page whether the trail verified, and what was found."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tasks.audit import verify_trail, write_checkpoint
from tests.audit.conftest import as_database_administrator

pytestmark = pytest.mark.django_db


def integrity_panel(client) -> str:
    page = client.get("/audit/").content.decode()
    start = page.find('data-testid="audit-integrity"')
    return page[start : page.find("</section>", start)] if start != -1 else ""


def test_before_any_verification_the_page_says_how_to_run_one(administrator, signed_in):
    panel = integrity_panel(signed_in(administrator))

    assert "Not verified yet." in panel
    assert "python manage.py verify_audit_chain" in panel


def test_the_nightly_verification_shows_an_intact_trail(administrator, make_entries, signed_in):
    make_entries(3)
    write_checkpoint.delay()

    verify_trail.delay()

    panel = integrity_panel(signed_in(administrator))
    assert "and all 1 checkpoints agree." in panel
    assert "Intact when verified at" in panel
    assert "Newest checkpoint outside the database:" in panel
    assert "at entry #3." in panel


def test_a_finding_of_the_command_is_on_the_page(administrator, make_entries, signed_in):
    entries = make_entries(3)
    as_database_administrator(
        ("UPDATE audit_auditentry SET target = %s WHERE id = %s", ["x", entries[1].id])
    )
    with pytest.raises(CommandError):
        call_command("verify_audit_chain", stdout=None, stderr=None)

    panel = integrity_panel(signed_in(administrator))

    assert 'role="alert"' in panel
    assert "Not intact when verified at" in panel
    assert f"Entry #2 (id {entries[1].id}) was changed after it was written" in panel


def test_supervisors_do_not_see_the_national_integrity(supervisor, make_entries, signed_in):
    make_entries(1)
    verify_trail.delay()

    assert integrity_panel(signed_in(supervisor)) == ""
