"""store_uploaded_keys: the contract the device API relies on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from authority.keys.models import ExposureKey, ReportType
from authority.keys.services.storing import UploadedKey, store_uploaded_keys
from authority.statistics.models import DailyCounter
from tests.keys.conftest import day_interval, uploaded_key

pytestmark = pytest.mark.django_db


def test_it_stores_keys_and_returns_how_many(lazio):
    keys = [uploaded_key(days_ago) for days_ago in (1, 2, 3)]
    stored = store_uploaded_keys(
        keys=keys, region_id=lazio.pk, onset_date=None, uploaded_on=date.today()
    )
    assert stored == 3
    assert ExposureKey.objects.count() == 3
    assert {bytes(key.key_data) for key in ExposureKey.objects.all()} == {
        key.key_data for key in keys
    }


def test_it_computes_days_since_onset_from_the_key_day(lazio):
    key = uploaded_key(key_data=b"\x01" * 16, rolling_start_interval_number=day_interval(5) + 30)
    onset = datetime.now(UTC).date() - timedelta(days=3)  # on the keys' calendar (UTC)
    store_uploaded_keys(keys=[key], region_id=lazio.pk, onset_date=onset, uploaded_on=date.today())
    # The key's day is 5 days ago, the onset 3 days ago: two days before the symptoms.
    assert ExposureKey.objects.get().days_since_onset_of_symptoms == -2


def test_days_since_onset_is_unset_without_an_onset_date(lazio):
    store_uploaded_keys(
        keys=[uploaded_key()], region_id=lazio.pk, onset_date=None, uploaded_on=date.today()
    )
    assert ExposureKey.objects.get().days_since_onset_of_symptoms is None


def test_keys_are_confirmed_test_by_default_and_unpublished(lazio):
    store_uploaded_keys(
        keys=[uploaded_key()], region_id=lazio.pk, onset_date=None, uploaded_on=date.today()
    )
    key = ExposureKey.objects.get()
    assert key.report_type == ReportType.CONFIRMED_TEST
    assert not key.batch.exists()
    assert key.region == lazio
    assert key.rolling_end_interval_number == key.rolling_start_interval_number + 144


def test_it_does_not_store_the_same_key_twice(lazio):
    key = uploaded_key()
    assert (
        store_uploaded_keys(
            keys=[key, key], region_id=lazio.pk, onset_date=None, uploaded_on=date.today()
        )
        == 1
    )
    assert (
        store_uploaded_keys(
            keys=[key], region_id=lazio.pk, onset_date=None, uploaded_on=date.today()
        )
        == 0
    )
    assert ExposureKey.objects.count() == 1


def test_the_same_key_data_for_another_interval_is_another_key(lazio):
    first = uploaded_key(key_data=b"\x02" * 16, rolling_start_interval_number=day_interval(2))
    second = UploadedKey(key_data=b"\x02" * 16, rolling_start_interval_number=day_interval(3))
    assert (
        store_uploaded_keys(
            keys=[first, second], region_id=lazio.pk, onset_date=None, uploaded_on=date.today()
        )
        == 2
    )


def test_it_keeps_optional_fields(lazio):
    key = uploaded_key(
        rolling_period=72, transmission_risk_level=3, report_type=ReportType.SELF_REPORT
    )
    store_uploaded_keys(keys=[key], region_id=lazio.pk, onset_date=None, uploaded_on=date.today())
    stored = ExposureKey.objects.get()
    assert (stored.rolling_period, stored.transmission_risk_level, stored.report_type) == (
        72,
        3,
        ReportType.SELF_REPORT,
    )


def test_nothing_links_the_keys_of_one_upload(lazio):
    """DESIGN.md 3.4: no upload id, no arrival time; a random primary key instead of a sequence."""
    field_names = {field.name for field in ExposureKey._meta.get_fields()}
    assert field_names == {
        "id",
        "key_data",
        "rolling_start_interval_number",
        "rolling_period",
        "rolling_end_interval_number",
        "transmission_risk_level",
        "report_type",
        "days_since_onset_of_symptoms",
        "region",
        "batch",
        "claim",  # the reverse side of ClaimedKey.key, the table behind `batch`
    }
    store_uploaded_keys(
        keys=[uploaded_key() for _ in range(5)],
        region_id=lazio.pk,
        onset_date=None,
        uploaded_on=date.today(),
    )
    ids = sorted(str(pk) for pk in ExposureKey.objects.values_list("pk", flat=True))
    assert len({pk[:8] for pk in ids}) == 5  # random, not consecutive


def test_only_an_aggregate_counter_remembers_the_upload(lazio):
    uploaded_on = date(2024, 3, 1)
    store_uploaded_keys(
        keys=[uploaded_key() for _ in range(4)],
        region_id=lazio.pk,
        onset_date=None,
        uploaded_on=uploaded_on,
    )
    counter = DailyCounter.objects.get(metric="keys_stored")
    assert (counter.day, counter.region_id, counter.value) == (uploaded_on, lazio.pk, 4)


def test_an_empty_upload_stores_nothing(lazio):
    assert (
        store_uploaded_keys(keys=[], region_id=lazio.pk, onset_date=None, uploaded_on=date.today())
        == 0
    )
    assert not DailyCounter.objects.exists()
