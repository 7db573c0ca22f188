"""What may be shared: the hook the device upload calls with a patient's keys and the countries they visited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from django.conf import settings

from authority.federation.models import OutboundKey
from authority.formats.efgs import dsos
from authority.formats.efgs.batch import TRANSMISSION_RISK_LEVEL_NOT_SET, ReportType

INTERVAL_SECONDS = 600
SYMPTOMS = "symptoms"  # otps.models.OnsetKind values, repeated to keep this app free of otps
TEST = "test"


class KeyToShare(Protocol):
    """A key as the device API validated it (authority.keys.services.UploadedKey fits)."""

    @property
    def key_data(self) -> bytes: ...
    @property
    def rolling_start_interval_number(self) -> int: ...
    @property
    def rolling_period(self) -> int: ...


def shareable_countries(countries: Sequence[str]) -> tuple[str, ...]:
    """The consented countries we share with, sorted, once each, never our own."""
    allowed = set(settings.FEDERATION_COUNTRIES) - {settings.FEDERATION_COUNTRY}
    return tuple(sorted({country.upper() for country in countries} & allowed))


def key_day(rolling_start_interval_number: int) -> date:
    return datetime.fromtimestamp(rolling_start_interval_number * INTERVAL_SECONDS, tz=UTC).date()


def efgs_days_since_onset(
    *,
    rolling_start_interval_number: int,
    onset_date: date | None,
    onset_kind: str,
    uploaded_on: date,
) -> int:
    """Days since onset in the gateway's encoding.

    A known symptom onset gives the plain day difference, as our exports carry it. A test
    date (no symptoms) is the asymptomatic range and no date at all "symptom status
    unknown": both counted from the upload, as the partners' convention reads them ("days
    since submission"), not from the test, which would shift every such key by the days
    between test and upload in the countries that weigh them.
    """
    day = key_day(rolling_start_interval_number)
    if onset_date is None:
        return dsos.encode((day - uploaded_on).days, offset=dsos.UNKNOWN_STATUS_OFFSET)
    if onset_kind == TEST:
        return dsos.encode((day - uploaded_on).days, offset=dsos.ASYMPTOMATIC_OFFSET)
    return dsos.encode((day - onset_date).days, offset=0)


def offer_for_sharing(
    *,
    keys: Sequence[KeyToShare],
    countries: Sequence[str],
    onset_date: date | None,
    onset_kind: str = SYMPTOMS,
    uploaded_on: date,
) -> int:
    """Queue an upload's keys for the gateway, for the countries the patient visited; how many.

    Called by the device upload inside its transaction, with the keys it stored and the
    app's `countries_of_interest` (the patient's consent). Nothing is queued when no
    consented country is one we share with. A key already queued keeps its first countries.
    Keys become shareable when they stop being valid plus the publication's embargo
    (KEYS_EMBARGO_MINUTES), as for our own exports.

    Keys are queued while the federation is off too: the patient's consent holds, and a
    federation switched on later shares the keys of the last 14 days, which still warn
    travellers; retention (daily, on or off) deletes them 14 days after their validity.
    """
    visited = shareable_countries(countries)
    if not visited or not keys:
        return 0
    embargo = timedelta(minutes=settings.KEYS_EMBARGO_MINUTES)
    rows = {}
    for key in keys:
        identity = (bytes(key.key_data), key.rolling_start_interval_number)
        if identity in rows or not 1 <= key.rolling_period <= 144:
            continue
        end = key.rolling_start_interval_number + key.rolling_period
        level = getattr(key, "transmission_risk_level", None)
        rows[identity] = OutboundKey(
            key_data=identity[0],
            rolling_start_interval_number=key.rolling_start_interval_number,
            rolling_period=key.rolling_period,
            transmission_risk_level=TRANSMISSION_RISK_LEVEL_NOT_SET if level is None else level,
            report_type=getattr(key, "report_type", None) or ReportType.CONFIRMED_TEST,
            days_since_onset_of_symptoms=efgs_days_since_onset(
                rolling_start_interval_number=key.rolling_start_interval_number,
                onset_date=onset_date,
                onset_kind=onset_kind,
                uploaded_on=uploaded_on,
            ),
            visited_countries=",".join(visited),
            shareable_from=datetime.fromtimestamp(end * INTERVAL_SECONDS, tz=UTC) + embargo,
        )
    created = OutboundKey.objects.bulk_create(rows.values(), ignore_conflicts=True)
    return len(created)
