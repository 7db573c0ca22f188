"""Fixtures for the audit trail: a checkpoint sink of each test's own, and the means of a
database administrator (raw SQL, with the triggers switched off as a table owner can)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from authority.accounts.models import User
from authority.audit.models import Action, AuditEntry
from authority.audit.services import record_event

KEY = "audit-key-of-the-tests-0123456789abcdef"
OTHER_KEY = "another-audit-key-of-the-tests-0123456789"

# A raw SQL statement and its parameters, of the types the database driver adapts.
SqlParameter = str | int | datetime | None
Statement = tuple[str, Sequence[SqlParameter]]


@pytest.fixture(autouse=True)
def audit_keys(settings) -> None:
    settings.AUDIT_HMAC_KEY = KEY
    settings.AUDIT_HMAC_KEY_FALLBACKS = []


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path: Path) -> Path:
    """Every test writes its checkpoints into a folder of its own."""
    folder = tmp_path / "checkpoints"
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_checkpoints": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    settings.AUDIT_CHECKPOINT_STORAGE = "audit_checkpoints"
    return folder


@pytest.fixture
def make_entries(operator: User) -> Callable[..., list[AuditEntry]]:
    def make(count: int = 5) -> list[AuditEntry]:
        return [
            record_event(action=Action.OTP_ISSUED, actor=operator, details={"n": n})
            for n in range(count)
        ]

    return make


def as_database_administrator(*statements: Statement) -> None:
    """Run raw SQL as the tables' owner would: on PostgreSQL with the append-only triggers
    switched off for the while (the chain, not the trigger, is what must tell)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks pending from this test's inserts block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        for statement, params in statements:
            cursor.execute(statement, list(params))
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_append_only")


def empty_the_table() -> Statement:
    if connection.vendor == "postgresql":
        return "TRUNCATE audit_auditentry", []
    return "DELETE FROM audit_auditentry", []


def reset_head(*, link: str = "0" * 64, length: int = 0, key_id: str = "") -> Statement:
    return (
        "UPDATE audit_auditchainhead SET last_hash = %s, length = %s, key_id = %s WHERE id = 1",
        [link, length, key_id],
    )


@dataclass(frozen=True)
class Verification:
    intact: bool
    output: str


@pytest.fixture
def verify() -> Callable[[], Verification]:
    """`manage.py verify_audit_chain`, as an administrator runs it: what it prints, and
    whether it failed (exit status 1)."""

    def run() -> Verification:
        out, err = StringIO(), StringIO()
        try:
            call_command("verify_audit_chain", stdout=out, stderr=err)
        except CommandError as exc:
            return Verification(False, out.getvalue() + err.getvalue() + str(exc))
        return Verification(True, out.getvalue() + err.getvalue())

    return run
