"""A checkpoint vouches only for a head it checked: the newest entry authentic, the head row's,
and continuing the chain from the previous checkpoint. Otherwise none is written, the refusal is
logged on authority.audit.verification and shown to administrators."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from authority.audit.checkpoints import read_checkpoints
from tests.audit.conftest import as_database_administrator, reset_head
from tests.audit.test_checkpoints import checkpoint_files
from tests.audit.test_integrity_page import integrity_panel
from tests.audit.test_tampering import COLUMNS, row_of, stored

pytestmark = pytest.mark.django_db


def refused(caplog) -> str:
    with (
        caplog.at_level(logging.ERROR, logger="authority.audit.verification"),
        pytest.raises(CommandError) as raised,
    ):
        call_command("write_audit_checkpoint", stdout=None)
    logged = [r.getMessage() for r in caplog.records if r.name == "authority.audit.verification"]
    assert logged, "the refusal is logged on the verification's logger"
    assert str(raised.value).startswith("No checkpoint taken: ")
    return logged[-1]


def test_an_edited_newest_entry_is_not_signed(make_entries, caplog, checkpoint_dir: Path):
    entries = make_entries(3)
    as_database_administrator(
        ("UPDATE audit_auditentry SET target = %s WHERE id = %s", ["x", entries[-1].id])
    )

    message = refused(caplog)

    assert f"the newest entry, #3 (id {entries[-1].id}), is not authentic" in message
    assert checkpoint_files(checkpoint_dir) == []


def test_a_head_reset_away_from_the_newest_entry_is_not_signed(make_entries, caplog):
    entries = make_entries(3)
    second = stored(entries[1])
    as_database_administrator(reset_head(link=second.entry_hash, length=2, key_id=second.key_id))

    message = refused(caplog)

    assert "is not the chain's head, which records 2 entries" in message


def test_entries_cut_behind_the_previous_checkpoint_are_not_signed(make_entries, caplog):
    entries = make_entries(5)
    call_command("write_audit_checkpoint", stdout=None)  # records 5
    third = stored(entries[2])
    as_database_administrator(
        ("DELETE FROM audit_auditentry WHERE id > %s", [third.id]),
        reset_head(link=third.entry_hash, length=3, key_id=third.key_id),
    )

    message = refused(caplog)

    assert "the trail ends at entry #3, but the checkpoint of" in message
    assert "recorded 5 entries" in message
    assert [checkpoint.position for checkpoint in read_checkpoints()[0]] == [5]


def test_a_refusal_is_shown_to_administrators_until_an_intact_verification(
    administrator, make_entries, signed_in, caplog
):
    entries = make_entries(3)
    as_database_administrator(
        ("UPDATE audit_auditentry SET target = %s WHERE id = %s", ["x", entries[-1].id])
    )
    refused(caplog)

    panel = integrity_panel(signed_in(administrator))

    assert 'data-testid="audit-checkpoint-alarm"' in panel
    assert "A checkpoint was refused at" in panel
    assert "is not authentic" in panel


@pytest.mark.postgres
def test_review_checkpoint_of_a_stale_copy_with_the_highest_id_is_refused(
    make_entries, caplog, checkpoint_dir: Path
):
    # Ported from the security review (tests/audit/test_review_checkpoint_poison.py): a copy of
    # entry #3 at id 10^9 was signed as the head, position 3, while the real head was #6.
    entries = [stored(entry) for entry in make_entries(6)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'audit_auditentry'::regclass "
            "AND contype = 'u'"
        )
        uniques = [row[0] for row in cursor.fetchall()]
    as_database_administrator(
        *[(f'ALTER TABLE audit_auditentry DROP CONSTRAINT "{name}"', []) for name in uniques],
        (
            f"INSERT INTO audit_auditentry (id, {COLUMNS}) VALUES (%s, {', '.join(['%s'] * 11)})",
            [10**9, *row_of(entries[2])],
        ),
    )

    message = refused(caplog)

    assert "the newest entry, #3 (id 1000000000), is not the chain's head, which records 6" in (
        message
    )
    assert checkpoint_files(checkpoint_dir) == []
