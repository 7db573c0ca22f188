"""Whatever a database administrator writes into the rows, the verification reports it: it never
crashes leaving the audit page on an older "intact", and a failed run is cached and logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from authority.audit.chain import legacy_link
from authority.audit.models import AuditEntry
from authority.audit.verification import latest_report
from tests.audit.conftest import as_database_administrator, reset_head
from tests.audit.test_integrity_page import integrity_panel
from tests.audit.test_tampering import insert, stored

pytestmark = pytest.mark.django_db


def test_review_legacy_entries_dated_year_one_are_reported_not_a_crash(make_entries, verify):
    # Ported from the security review (tests/audit/test_review_verifier_crash.py): two plain
    # SHA-256 entries dated 0001-01-01 made the key-order check overflow.
    entries = [stored(entry) for entry in make_entries(3)]
    call_command("write_audit_checkpoint", stdout=None)
    assert verify().intact
    previous = entries[-1].entry_hash
    forged = []
    for n in range(2):
        entry = AuditEntry(
            created_at=datetime(1, 1, 1, tzinfo=UTC),
            actor_id=entries[-1].actor_id,
            actor_username=entries[-1].actor_username,
            action=entries[-1].action,
            target=f"forged {n}",
            details={},
            previous_hash=previous,
            position=None,
            key_id="",
        )
        entry.entry_hash = legacy_link(entry.link_fields())
        previous = entry.entry_hash
        forged.append(entry)
    as_database_administrator(
        *[insert(entry) for entry in forged], reset_head(link=previous, length=5)
    )
    first_forged = AuditEntry.objects.get(target="forged 0")

    result = verify()

    assert not result.intact
    assert f"Entry #4 (id {first_forged.id}) is dated 0001-01-01" in result.output
    assert "a time this server never gives" in result.output
    report = latest_report()
    assert report is not None and not report.intact


def test_a_verification_that_fails_is_cached_and_logged_as_failed(
    administrator, make_entries, verify, signed_in, caplog
):
    make_entries(2)
    call_command("write_audit_checkpoint", stdout=None)
    assert verify().intact
    panel_client = signed_in(administrator)
    # The table's owner can drop the head: the check then cannot even start.
    as_database_administrator(("DROP TABLE audit_auditchainhead", []))

    with caplog.at_level(logging.ERROR, logger="authority.audit.verification"):
        result = verify()

    assert not result.intact
    assert "The verification stopped on an error" in result.output
    logged = [r for r in caplog.records if r.name == "authority.audit.verification"]
    assert any(r.exc_info for r in logged), "the error itself is in the log"
    report = latest_report()
    assert report is not None and report.failed
    if connection.vendor == "sqlite":  # PostgreSQL's transaction is aborted by the error
        panel = integrity_panel(panel_client)
        assert "The verification of" in panel
        assert "integrity is unknown. Follow" in panel
        assert "Intact when verified" not in panel


def test_an_entry_the_database_driver_cannot_load_is_a_finding(make_entries, verify):
    entries = make_entries(3)
    # A time each database stores but Python cannot hold.
    unloadable = "infinity" if connection.vendor == "postgresql" else "not a time"
    as_database_administrator(
        ("UPDATE audit_auditentry SET created_at = %s WHERE id = %s", [unloadable, entries[1].id])
    )

    result = verify()

    assert not result.intact
    assert f"Entry #2 (id {entries[1].id}) could not be checked" in result.output
    # The walk goes on after it: the third entry links to the second as ever.
    assert "Entry #3" not in result.output


def test_an_old_result_is_flagged_on_the_page(administrator, make_entries, verify, signed_in):
    make_entries(2)
    call_command("write_audit_checkpoint", stdout=None)
    assert verify().intact

    with time_machine.travel(timezone.now() + timedelta(hours=27)):
        panel = integrity_panel(signed_in(administrator))

    assert 'data-testid="audit-integrity-outdated"' in panel
    assert "the nightly verification has not run since" in panel


def test_a_fresh_result_is_not_flagged(administrator, make_entries, verify, signed_in):
    make_entries(2)
    call_command("write_audit_checkpoint", stdout=None)
    assert verify().intact

    panel = integrity_panel(signed_in(administrator))

    assert "Intact when verified at" in panel
    assert "audit-integrity-outdated" not in panel
