"""The audit trail is append-only and tamper-evident."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from authority.audit.models import Action, AuditEntry
from authority.audit.services import record_event, verify_chain

pytestmark = pytest.mark.django_db


def make_entries(operator, count: int = 5) -> list[AuditEntry]:
    return [
        record_event(action=Action.OTP_ISSUED, actor=operator, details={"n": n})
        for n in range(count)
    ]


def raw_sql(statement: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A tamperer with table-owner rights can switch the trigger off; the chain still tells.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_append_only")
        cursor.execute(statement, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")


def test_each_entry_links_to_the_previous_one(operator):
    first, second, *_ = make_entries(operator)
    assert first.previous_hash == "0" * 64
    assert second.previous_hash == first.entry_hash
    assert verify_chain().intact


def test_the_command_reports_an_intact_chain(operator, capsys):
    make_entries(operator)
    call_command("verify_audit_chain")
    assert "5 entries verified" in capsys.readouterr().out


def test_it_finds_an_edited_entry(operator):
    entries = make_entries(operator)
    raw_sql(
        "UPDATE audit_auditentry SET target = %s WHERE id = %s", ["someone else", entries[2].id]
    )
    with pytest.raises(CommandError, match=f"entry {entries[2].id}: its content does not match"):
        call_command("verify_audit_chain")


def test_it_finds_a_removed_entry(operator):
    entries = make_entries(operator)
    raw_sql("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].id])
    report = verify_chain()
    assert report.first_broken_id == entries[2].id
    assert "does not link" in report.problem


def test_it_finds_removed_newest_entries(operator):
    entries = make_entries(operator)
    raw_sql("DELETE FROM audit_auditentry WHERE id = %s", [entries[-1].id])
    assert not verify_chain().intact


def test_entries_cannot_be_changed_or_deleted_through_the_orm(operator):
    entry = make_entries(operator, 1)[0]
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
def test_postgresql_itself_refuses_updates(operator):
    from django.db import DatabaseError, transaction

    entry = make_entries(operator, 1)[0]
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditentry SET target = 'x' WHERE id = %s", [entry.id])


def test_the_audit_page_filters_by_action_and_date(supervisor, operator, signed_in):
    make_entries(operator, 2)
    record_event(action=Action.OTP_REVOKED, actor=operator, target="code 7")
    client = signed_in(supervisor)
    page = client.get("/audit/", {"action": "otp_revoked"}).content.decode()
    assert "code 7" in page
    assert page.count("<tr>") == 2  # header + one entry
    bad = client.get("/audit/", {"since": "2026-05-02", "until": "2026-05-01"}).content.decode()
    assert "end date is before the start date" in bad


def test_the_admin_shows_the_trail_read_only(administrator, operator, signed_in):
    entry = make_entries(operator, 1)[0]
    client = signed_in(administrator)
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/delete/").status_code == 403
    assert (
        client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"target": "x"}).status_code
        == 403
    )
