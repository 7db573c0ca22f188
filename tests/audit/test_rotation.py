"""Rotating AUDIT_HMAC_KEY: what was made under the previous key still verifies while that key
is among AUDIT_HMAC_KEY_FALLBACKS, and the retired key cannot go on adding entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from authority.audit.chain import AuditKey
from authority.audit.models import Action, AuditEntry
from tasks.audit import write_checkpoint
from tests.audit.conftest import KEY, OTHER_KEY, as_database_administrator, reset_head
from tests.audit.test_tampering import insert

pytestmark = pytest.mark.django_db

OLD, NEW = AuditKey.from_secret(KEY), AuditKey.from_secret(OTHER_KEY)


def rotate(settings, *, keep_old: bool = True) -> None:
    settings.AUDIT_HMAC_KEY = OTHER_KEY
    settings.AUDIT_HMAC_KEY_FALLBACKS = [KEY] if keep_old else []


def test_entries_and_checkpoints_made_before_a_rotation_still_verify(
    settings, make_entries, verify
):
    make_entries(3)
    write_checkpoint.delay()
    rotate(settings)

    make_entries(2)
    write_checkpoint.delay()

    result = verify()
    assert result.intact, result.output
    assert "Audit trail intact: 6 entries verified, 2 checkpoints agree." in result.output


def test_the_first_entry_under_a_new_key_says_so_in_the_trail(settings, make_entries):
    make_entries(2)
    rotate(settings)

    make_entries(1)

    changed = AuditEntry.objects.get(action=Action.AUDIT_KEY_CHANGED)
    assert changed.position == 3
    assert changed.key_id == NEW.key_id
    assert changed.details == {"previous_key": OLD.key_id, "key": NEW.key_id}
    assert AuditEntry.objects.filter(action=Action.AUDIT_KEY_CHANGED).count() == 1


def test_without_the_retired_key_its_entries_cannot_be_verified(settings, make_entries, verify):
    entries = make_entries(2)
    rotate(settings, keep_old=False)
    make_entries(1)

    result = verify()

    assert not result.intact
    assert (
        f"Entry #1 (id {entries[0].id}) names audit key {OLD.key_id}, which is not configured: it "
        "was forged, or AUDIT_HMAC_KEY_FALLBACKS lacks a retired key." in result.output
    )


def test_processes_still_on_the_old_key_during_the_restart_are_no_finding(
    settings, make_entries, verify
):
    make_entries(2)
    rotate(settings)
    make_entries(1)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        # A worker that has not restarted yet: only the old key, as current.
        settings.AUDIT_HMAC_KEY, settings.AUDIT_HMAC_KEY_FALLBACKS = KEY, []
        make_entries(1)
        rotate(settings)
        make_entries(1)

        result = verify()

    assert result.intact, result.output
    assert AuditEntry.objects.filter(action=Action.AUDIT_KEY_CHANGED).count() == 3


def test_an_entry_made_with_the_retired_key_after_the_rollover_is_named(
    settings, make_entries, verify
):
    """Whoever holds the key a rotation retired (it leaked: that is why it was rotated) and can
    write the table cannot go on adding entries under it."""
    settings.AUDIT_KEY_ROLLOVER_MINUTES = 30
    make_entries(2)
    rotate(settings)
    make_entries(1)
    last = AuditEntry.objects.order_by("-id").first()
    assert last is not None
    later = timezone.now() + timedelta(hours=3)
    forged = AuditEntry(
        created_at=later,
        actor_username="admin",
        action=Action.USER_CHANGED,
        target="operator-lazio",
        details={},
        previous_hash=last.entry_hash,
        position=last.position + 1,
        key_id=OLD.key_id,
    )
    forged.entry_hash = OLD.link(forged.link_fields())

    as_database_administrator(
        insert(forged), reset_head(link=forged.entry_hash, length=5, key_id=OLD.key_id)
    )

    with time_machine.travel(later):
        result = verify()

    assert not result.intact
    assert (
        f"Entry #5 (id {AuditEntry.objects.order_by('-id').first().id}) was written with "
        f"{OLD.key_id} after the chain moved to key {NEW.key_id} at entry #3" in result.output
    )
