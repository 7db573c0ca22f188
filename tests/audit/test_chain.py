"""The audit trail is append-only and keyed: each entry's link is an HMAC under AUDIT_HMAC_KEY."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from authority.audit.chain import AuditKey
from authority.audit.models import Action, AuditEntry
from authority.audit.services import record_event
from tests.audit.conftest import KEY

pytestmark = pytest.mark.django_db


def test_each_entry_links_to_the_previous_one_at_the_next_position(make_entries):
    first, second, *_ = make_entries()

    assert first.previous_hash == "0" * 64
    assert second.previous_hash == first.entry_hash
    assert [first.position, second.position] == [1, 2]


def test_a_link_is_an_hmac_under_the_audit_key_not_a_plain_hash(make_entries):
    entry = AuditEntry.objects.get(pk=make_entries(1)[0].pk)
    key = AuditKey.from_secret(KEY)

    assert entry.key_id == key.key_id
    assert entry.entry_hash == key.link(entry.link_fields())
    assert entry.entry_hash != AuditKey.from_secret("some-other-key-0123456789abcdef").link(
        entry.link_fields()
    )
    # The key id names the key without giving it away: no hash of the key itself.
    assert entry.key_id not in hashlib.sha256(KEY.encode()).hexdigest()


def test_the_command_reports_an_intact_trail(make_entries, verify):
    make_entries()
    call_command("write_audit_checkpoint")

    result = verify()

    assert result.intact
    assert "Audit trail intact: 5 entries verified, 1 checkpoints agree." in result.output
    assert "the newest of" in result.output
    assert "at entry #5" in result.output


def test_an_empty_trail_without_checkpoints_is_intact(verify):
    result = verify()

    assert result.intact
    assert "Entries: 0." in result.output
    assert "Checkpoints: none yet." in result.output


def test_entries_cannot_be_changed_or_deleted_through_the_orm(make_entries):
    entry = make_entries(1)[0]
    entry.target = "x"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(target="x")


@pytest.mark.postgres
def test_postgresql_itself_refuses_updates(make_entries):
    entry = make_entries(1)[0]
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditentry SET target = 'x' WHERE id = %s", [entry.id])


@pytest.mark.postgres
def test_postgresql_itself_refuses_truncate(make_entries):
    make_entries(2)
    with connection.cursor() as cursor:
        # The test database lets Django's flush truncate (tests/conftest.py); production's
        # trigger is the migration's, switched on here as it is there.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_no_truncate")
    with (
        pytest.raises(DatabaseError, match="cannot be truncated"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditentry")
    with (
        pytest.raises(DatabaseError, match="cannot be truncated"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # Nor as the side effect of truncating a table it refers to.
        cursor.execute("TRUNCATE accounts_user CASCADE")
    assert AuditEntry.objects.count() == 2


def test_the_audit_page_filters_by_action_and_date(supervisor, make_entries, operator, signed_in):
    make_entries(2)
    record_event(action=Action.OTP_REVOKED, actor=operator, target="code 7")
    client = signed_in(supervisor)
    page = client.get("/audit/", {"action": "otp_revoked"}).content.decode()
    assert "code 7" in page
    assert page.count("<tr>") == 2  # header + one entry
    bad = client.get("/audit/", {"since": "2026-05-02", "until": "2026-05-01"}).content.decode()
    assert "end date is before the start date" in bad


def test_the_admin_shows_the_trail_read_only(administrator, make_entries, signed_in):
    entry = make_entries(1)[0]
    client = signed_in(administrator)
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"target": "x"}).status_code
        == 403
    )
