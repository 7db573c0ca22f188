"""Storing the keys of one upload for publication (the device API's entry point)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connections, router, transaction

from authority.keys import metrics
from authority.keys.models import ExposureKey, ReportType, interval_to_datetime
from authority.statistics.services import increment


@dataclass(frozen=True, slots=True)
class UploadedKey:
    """A key as the device API validated it (DESIGN.md 7)."""

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int = 144
    transmission_risk_level: int | None = None
    report_type: int = ReportType.CONFIRMED_TEST


def store_uploaded_keys(
    *, keys: Sequence[UploadedKey], region_id: int, onset_date: date | None, uploaded_on: date
) -> int:
    """Store one upload's keys for publication; return how many were new.

    days_since_onset_of_symptoms is the key's day minus the onset date. A key already stored
    (same key_data and interval) is skipped, so a repeated upload stores nothing twice.
    Nothing about the upload itself is kept: only the count, on the day's counter.

    One INSERT ... ON CONFLICT DO NOTHING (PostgreSQL and SQLite), whose row count says how
    many keys were new: no read first, no savepoint, whatever the concurrent uploads do.
    """
    rows: dict[tuple[bytes, int], ExposureKey] = {}
    for key in keys:
        identity = (bytes(key.key_data), key.rolling_start_interval_number)
        if identity in rows:
            continue
        rows[identity] = ExposureKey(
            key_data=identity[0],
            rolling_start_interval_number=key.rolling_start_interval_number,
            rolling_period=key.rolling_period,
            rolling_end_interval_number=key.rolling_start_interval_number + key.rolling_period,
            transmission_risk_level=key.transmission_risk_level,
            report_type=key.report_type,
            days_since_onset_of_symptoms=None
            if onset_date is None
            else (key_day(key.rolling_start_interval_number) - onset_date).days,
            region_id=region_id,
        )
    if not rows:
        return 0
    with transaction.atomic(savepoint=False):
        stored = _insert_new_keys(list(rows.values()))
        if stored:
            increment(metrics.KEYS_STORED, region_id=region_id, amount=stored, day=uploaded_on)
    return stored


def key_day(rolling_start_interval_number: int) -> date:
    """The UTC day a key belongs to (GAEN intervals start at midnight UTC)."""
    return interval_to_datetime(rolling_start_interval_number).date()


def _insert_new_keys(rows: list[ExposureKey]) -> int:
    """INSERT the rows, skipping those already stored; how many were inserted.

    On PostgreSQL each column travels as one array parameter (`unnest`), so the statement's
    text is the same for every upload: psycopg parses it once and prepares it on the server,
    instead of a statement of a different length for each number of keys.
    """
    connection = connections[router.db_for_write(ExposureKey)]
    fields = list(ExposureKey._meta.concrete_fields)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    table = quote(ExposureKey._meta.db_table)
    values = [
        [field.get_db_prep_save(field.pre_save(row, add=True), connection) for row in rows]
        for field in fields
    ]
    # Only names and types from the model, and placeholders: the values travel as parameters.
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"  # noqa: S608
        )
        params = values
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(rows))} ON CONFLICT DO NOTHING"  # noqa: S608
        params = [value for row_values in zip(*values, strict=True) for value in row_values]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted: int = cursor.rowcount
        return inserted
