"""Deployments from before the keyed chain: their SHA-256 entries stay as they are and keep
verifying; the chain is keyed from the first entry written after the upgrade."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from authority.audit.chain import GENESIS_LINK, legacy_link
from authority.audit.models import Action, AuditChainHead, AuditEntry
from authority.audit.services import record_event
from tests.audit.conftest import as_database_administrator
from tests.audit.test_tampering import insert, rewrite

pytestmark = pytest.mark.django_db


def legacy_trail(operator, count: int) -> list[AuditEntry]:
    """Entries as the previous release wrote them: SHA-256 links, no key, no position; and
    the head as migration 0004 leaves it."""
    previous, entries = GENESIS_LINK, []
    for n in range(count):
        entry = AuditEntry(
            created_at=timezone.now() - timedelta(days=30 - n),
            actor_id=operator.id,
            actor_username=operator.username,
            action=Action.OTP_ISSUED,
            region_id=operator.region_id,
            details={"n": n},
            previous_hash=previous,
            key_id="",
        )
        entry.entry_hash = previous = legacy_link(entry.link_fields())
        entries.append(entry)
    as_database_administrator(
        *[insert(entry) for entry in entries],
        (
            "INSERT INTO audit_auditchainhead (id, last_hash, length, key_id) VALUES (1, %s, %s, '')",
            [previous, count],
        ),
    )
    return list(AuditEntry.objects.order_by("id"))


def test_a_trail_from_before_the_upgrade_still_verifies_and_is_keyed_from_then_on(operator, verify):
    legacy_trail(operator, 4)

    entry = record_event(action=Action.OTP_REVOKED, actor=operator, target="code 9")

    changed = AuditEntry.objects.get(action=Action.AUDIT_KEY_CHANGED)
    assert (changed.position, entry.position) == (5, 6)
    assert changed.details["previous_key"] == "sha256"
    result = verify()
    assert result.intact, result.output
    assert (
        "Entries #1 to #4 were written before the chain was keyed (SHA-256 links, protected by "
        "the keyed entries after them); keyed from entry #5 on." in result.output
    )


def test_a_trail_not_yet_keyed_says_so(operator, verify):
    legacy_trail(operator, 2)

    result = verify()

    assert result.intact
    assert "No entry is keyed yet: the next one written will be." in result.output


def test_an_old_entry_rewritten_after_the_upgrade_is_found(operator, verify):
    """SHA-256 is no secret: the attacker re-hashes every old entry after the one edited. The
    first keyed entry still names the true link of the last old one."""
    entries = legacy_trail(operator, 4)
    keyed = record_event(action=Action.OTP_REVOKED, actor=operator)
    previous, statements = entries[0].entry_hash, []
    for entry in entries[1:]:
        if entry.id == entries[1].id:
            entry.target = "someone else"
        entry.previous_hash = previous
        entry.entry_hash = previous = legacy_link(entry.link_fields())
        statements.append(rewrite(entry))

    as_database_administrator(*statements)

    result = verify()
    assert not result.intact
    changed = AuditEntry.objects.get(action=Action.AUDIT_KEY_CHANGED)
    assert (
        f"Entry #5 (id {changed.id}) does not link to the entry before it: entries before it "
        "were removed or replaced." in result.output
    )
    assert keyed.position == 6


def test_the_previous_release_writing_during_the_upgrade_is_no_finding(operator, verify):
    """The release phase migrates while the old processes still serve: for a few minutes they
    write SHA-256 entries between the new release's keyed ones."""
    legacy_trail(operator, 2)
    record_event(action=Action.LOGIN, actor=operator)
    last = AuditEntry.objects.order_by("-id").first()
    old_process_entry = AuditEntry(
        created_at=timezone.now() + timedelta(seconds=1),
        actor_username="admin",
        action=Action.LOGOUT,
        previous_hash=last.entry_hash,
        key_id="",
    )
    old_process_entry.entry_hash = legacy_link(old_process_entry.link_fields())
    # The old release moves only the head's link.
    as_database_administrator(
        insert(old_process_entry),
        ("UPDATE audit_auditchainhead SET last_hash = %s", [old_process_entry.entry_hash]),
    )
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        after = record_event(action=Action.LOGIN, actor=operator)

        result = verify()

    assert after.position == 6
    assert after.previous_hash == old_process_entry.entry_hash
    assert result.intact, result.output


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_the_existing_entries_and_rewrites_none(operator, verify):
    executor = MigrationExecutor(connection)
    before, latest = (
        [("audit", "0003_signing_keys_reencrypted")],
        executor.loader.graph.leaf_nodes("audit"),
    )
    try:
        executor.migrate(before)
        old_apps = executor.loader.project_state(before).apps
        OldEntry = old_apps.get_model("audit", "AuditEntry")
        OldHead = old_apps.get_model("audit", "AuditChainHead")
        previous = GENESIS_LINK
        for n in range(3):
            entry = OldEntry(
                created_at=timezone.now(),
                actor_id=operator.id,
                actor_username=operator.username,
                action="otp_issued",
                region_id=operator.region_id,
                details={"n": n},
                previous_hash=previous,
            )
            entry.entry_hash = previous = legacy_link(
                {
                    "previous": entry.previous_hash,
                    "time": entry.created_at.isoformat(),
                    "actor": entry.actor_username,
                    "action": entry.action,
                    "region": entry.region_id,
                    "target": entry.target,
                    "details": entry.details,
                }
            )
            entry.save()
        OldHead.objects.create(pk=1, last_hash=previous)
        links_before = list(OldEntry.objects.order_by("id").values_list("entry_hash", flat=True))

        executor = MigrationExecutor(connection)
        executor.migrate(latest)

        head = AuditChainHead.objects.get(pk=1)
        assert (head.length, head.key_id, head.last_hash) == (3, "", previous)
        assert list(AuditEntry.objects.order_by("id").values_list("entry_hash", flat=True)) == (
            links_before
        )
        assert set(AuditEntry.objects.values_list("position", "key_id")) == {(None, "")}
        assert record_event(action=Action.LOGIN, actor=operator).position == 5
        assert verify().intact
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("audit"))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Let the flush after this test empty the table (tests/conftest.py).
                cursor.execute(
                    "ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_no_truncate"
                )
