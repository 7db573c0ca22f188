"""Rewriting the audit trail with database access only is reported by verify_audit_chain.

Each test is an attack by someone who can write the tables (raw SQL, triggers switched off as a
table owner can) but holds neither AUDIT_HMAC_KEY nor write access to the checkpoint storage.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from authority.audit.chain import AuditKey, legacy_link
from authority.audit.models import AuditChainHead, AuditEntry
from tests.audit.conftest import (
    SqlParameter,
    Statement,
    as_database_administrator,
    empty_the_table,
    reset_head,
)

pytestmark = pytest.mark.django_db

# What an attacker without the key might try instead of it.
GUESSED_KEY = AuditKey.from_secret("dev-insecure-audit-hmac-change-me-in-production-0123456789")

COLUMNS = (
    "created_at, actor_id, actor_username, action, region_id, target, details, previous_hash, "
    "entry_hash, position, key_id"
)


def row_of(entry: AuditEntry) -> list[SqlParameter]:
    return [
        entry.created_at,
        entry.actor_id,
        entry.actor_username,
        entry.action,
        entry.region_id,
        entry.target,
        json.dumps(entry.details),
        entry.previous_hash,
        entry.entry_hash,
        entry.position,
        entry.key_id,
    ]


def insert(entry: AuditEntry) -> Statement:
    return f"INSERT INTO audit_auditentry ({COLUMNS}) VALUES ({', '.join(['%s'] * 11)})", row_of(
        entry
    )


def rewrite(entry: AuditEntry) -> Statement:
    return (
        "UPDATE audit_auditentry SET target = %s, previous_hash = %s, entry_hash = %s, "
        "key_id = %s, position = %s WHERE id = %s",
        [
            entry.target,
            entry.previous_hash,
            entry.entry_hash,
            entry.key_id,
            entry.position,
            entry.id,
        ],
    )


def stored(entry: AuditEntry) -> AuditEntry:
    return AuditEntry.objects.get(pk=entry.pk)


def forged_after(last: AuditEntry, *, key_id: str | None = None) -> AuditEntry:
    """A plausible next entry, made without the audit key."""
    forged = AuditEntry(
        created_at=last.created_at + timedelta(seconds=1),
        actor_id=last.actor_id,
        actor_username=last.actor_username,
        action=last.action,
        region_id=last.region_id,
        target="a code nobody issued",
        details={},
        previous_hash=last.entry_hash,
        position=last.position + 1,
        key_id=last.key_id if key_id is None else key_id,
    )
    forged.entry_hash = GUESSED_KEY.link(forged.link_fields())
    return forged


def test_an_edited_entry_is_named(make_entries, verify):
    entries = make_entries()

    as_database_administrator(
        ("UPDATE audit_auditentry SET target = %s WHERE id = %s", ["someone else", entries[2].id])
    )

    result = verify()
    assert not result.intact
    assert (
        f"Entry #3 (id {entries[2].id}) was changed after it was written: its content no longer "
        "matches its link." in result.output
    )
    assert "Audit trail NOT intact: 1 finding(s)" in result.output


def test_an_edited_entry_re_hashed_with_the_rest_of_the_chain_is_named(make_entries, verify):
    """Without the key the attacker's links cannot be the key's, however carefully the rest
    of the chain is re-linked (and the head moved)."""
    entries = [stored(entry) for entry in make_entries()]
    statements = []
    previous = entries[1].entry_hash
    for entry in entries[2:]:
        if entry.id == entries[2].id:
            entry.target = "someone else"
        entry.previous_hash = previous
        entry.entry_hash = GUESSED_KEY.link(entry.link_fields())
        statements.append(rewrite(entry))
        previous = entry.entry_hash
    statements.append(reset_head(link=previous, length=5, key_id=entries[0].key_id))

    as_database_administrator(*statements)

    result = verify()
    assert not result.intact
    assert f"Entry #3 (id {entries[2].id}) was changed after it was written" in result.output
    assert f"Entry #5 (id {entries[4].id})" in result.output


def test_an_entry_re_hashed_as_if_from_before_the_keyed_chain_is_named(make_entries, verify):
    """Passing the rewritten entries off as old SHA-256 ones (no key id, no position) does not
    work either: no entry without a key may follow a keyed one (after the few minutes in which
    processes of the previous release may still write, AUDIT_KEY_ROLLOVER_MINUTES)."""
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        earlier = make_entries(3)
    entries = [stored(entry) for entry in [*earlier, *make_entries(2)]]
    statements = []
    previous = entries[2].entry_hash
    for entry in entries[3:]:
        entry.target = "someone else"
        entry.previous_hash, entry.key_id, entry.position = previous, "", None
        entry.entry_hash = legacy_link(entry.link_fields())
        statements.append(rewrite(entry))
        previous = entry.entry_hash
    statements.append(reset_head(link=previous, length=5))

    as_database_administrator(*statements)

    result = verify()
    assert not result.intact
    assert (
        f"Entry #4 (id {entries[3].id}) was written without a key (plain SHA-256) after the "
        f"chain moved to key {entries[0].key_id} at entry #1: it was added or rewritten by "
        "someone without the audit key." in result.output
    )


def test_a_deleted_entry_is_named(make_entries, verify):
    entries = make_entries()

    as_database_administrator(("DELETE FROM audit_auditentry WHERE id = %s", [entries[2].id]))

    result = verify()
    assert not result.intact
    assert f"Entry #3 was removed: entry #4 (id {entries[3].id}) follows entry #2." in result.output


def test_several_deleted_entries_are_named(make_entries, verify):
    entries = make_entries(6)

    as_database_administrator(
        ("DELETE FROM audit_auditentry WHERE id IN (%s, %s)", [entries[1].id, entries[2].id])
    )

    result = verify()
    assert not result.intact
    assert f"Entries #2 to #3 were removed: entry #4 (id {entries[3].id})" in result.output


def test_deleted_newest_entries_are_named(make_entries, verify):
    entries = make_entries()

    as_database_administrator(
        ("DELETE FROM audit_auditentry WHERE id >= %s", [entries[3].id]),
    )

    result = verify()
    assert not result.intact
    assert (
        "The trail ends at entry #3, but the head records 5 entries: the newest entries were "
        "removed." in result.output
    )


def test_deleted_newest_entries_with_the_head_reset_are_named_by_the_checkpoint(
    make_entries, verify
):
    entries = make_entries()
    call_command("write_audit_checkpoint")

    as_database_administrator(
        ("DELETE FROM audit_auditentry WHERE id >= %s", [entries[3].id]),
        reset_head(link=entries[2].entry_hash, length=3, key_id=entries[2].key_id),
    )

    result = verify()
    assert not result.intact
    assert "The trail ends at entry #3, but the checkpoint of" in result.output
    assert "recorded 5 entries: the newest entries were removed, or the database was restored" in (
        result.output
    )


def test_a_truncated_trail_with_its_head_reset_is_named(make_entries, verify):
    make_entries()
    call_command("write_audit_checkpoint")

    as_database_administrator(empty_the_table(), reset_head())

    result = verify()
    assert not result.intact
    assert "Entries: 0." in result.output
    assert (
        "recorded 5 entries: the table was emptied (TRUNCATE) or replaced by an empty copy."
        in result.output
    )


def test_a_truncated_trail_written_again_is_named(make_entries, verify):
    """Emptied, head reset, and the application goes on writing: the new chain is well formed
    under the key, but not the one the checkpoint saw."""
    make_entries()
    call_command("write_audit_checkpoint")
    as_database_administrator(empty_the_table(), reset_head())

    make_entries(7)

    result = verify()
    assert not result.intact
    assert "Entry #5 is not the one the checkpoint of" in result.output
    assert "the trail was rewritten (emptied or cut, then written again)" in result.output


def test_a_rollback_to_an_older_copy_of_the_database_is_named(make_entries, verify):
    """The database restored from an older dump: a consistent trail, head and all, only
    shorter than the newest checkpoint says."""
    make_entries(3)
    call_command("write_audit_checkpoint")
    dump = [row_of(entry) for entry in AuditEntry.objects.order_by("id")]
    dumped_head = AuditChainHead.objects.get(pk=1)
    make_entries(4)
    call_command("write_audit_checkpoint")

    as_database_administrator(
        empty_the_table(),
        *[
            (f"INSERT INTO audit_auditentry ({COLUMNS}) VALUES ({', '.join(['%s'] * 11)})", row)
            for row in dump
        ],
        reset_head(
            link=dumped_head.last_hash, length=dumped_head.length, key_id=dumped_head.key_id
        ),
    )

    result = verify()
    assert not result.intact
    assert "The trail ends at entry #3, but the checkpoint of" in result.output
    assert "recorded 7 entries" in result.output
    assert "restored from an older copy (a rollback)" in result.output
    # The restored chain itself is sound: the rollback is the only finding.
    assert "Audit trail NOT intact: 1 finding(s)" in result.output


def test_an_entry_added_without_the_key_is_named(make_entries, verify):
    entries = [stored(entry) for entry in make_entries(3)]
    forged = forged_after(entries[-1])

    as_database_administrator(
        insert(forged), reset_head(link=forged.entry_hash, length=4, key_id=forged.key_id)
    )

    result = verify()
    assert not result.intact
    assert "Entry #4 (id " in result.output
    assert "the newest, was added or changed by someone without the audit key" in result.output


def test_an_entry_slipped_in_without_moving_the_head_is_named_as_inserted(make_entries, verify):
    entries = [stored(entry) for entry in make_entries(3)]

    as_database_administrator(insert(forged_after(entries[-1])))

    result = verify()
    assert not result.intact
    assert "was inserted by someone without the audit key" in result.output
    assert "Audit trail NOT intact: 1 finding(s)" in result.output


def test_an_entry_under_a_made_up_key_is_named(make_entries, verify):
    entries = [stored(entry) for entry in make_entries(3)]
    forged = forged_after(entries[-1], key_id=GUESSED_KEY.key_id)

    as_database_administrator(
        insert(forged), reset_head(link=forged.entry_hash, length=4, key_id=forged.key_id)
    )

    result = verify()
    assert not result.intact
    assert (
        f"names audit key {GUESSED_KEY.key_id}, which is not configured: it was forged, or "
        "AUDIT_HMAC_KEY_FALLBACKS lacks a retired key." in result.output
    )


def test_a_swapped_pair_of_entries_is_named(make_entries, verify):
    """Reordering is a rewrite too: ids swapped, links left alone."""
    entries = make_entries(4)
    first, second = entries[1].id, entries[2].id
    parking = -1 if connection.vendor == "sqlite" else 10**9

    as_database_administrator(
        ("UPDATE audit_auditentry SET id = %s WHERE id = %s", [parking, first]),
        ("UPDATE audit_auditentry SET id = %s WHERE id = %s", [first, second]),
        ("UPDATE audit_auditentry SET id = %s WHERE id = %s", [second, parking]),
    )

    result = verify()
    assert not result.intact
    assert "Entry #2 was removed: entry #3" in result.output
    assert f"Entry #2 (id {second}) stands where entry #4 should" in result.output
