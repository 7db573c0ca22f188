"""The data of each chart: a table built from aggregate queries of the counters, for one scope.

The same table is drawn (figures.py, exact: the dashboard is for signed-in staff) and
downloaded (exports.py, small counts withheld). Each table says what its figures add up, so
that the downloads withhold them as every other publication does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from authority.accounts.models import Region, User
from authority.dashboard import sampling, selectors
from authority.dashboard.counters import ABROAD_CODE, ABROAD_NAME, Counter, counters
from authority.dashboard.selectors import Scope
from authority.ingestion import metrics as device_metrics
from authority.ingestion.analytics import metrics as app_metrics
from authority.keys import metrics as key_metrics
from authority.otps import metrics as code_metrics
from authority.statistics.models import NATIONAL


class Layout(Enum):
    """How a table's figures relate to the counters (what the downloads withhold follows)."""

    DAYS = "days"  # a row per day; each column adds up its counters in the scope's area
    AREAS = "areas"  # a row per area (the regions, then abroad), each column over the period
    STAGES = "stages"  # a row per figure over the period, in the scope's area
    BUCKETS = "buckets"  # a histogram over the period, its buckets adding up to `total`
    OPERATORS = "operators"  # a row per day and person; a day's rows add up to the region's


class Kind(Enum):
    """What a column holds (what the downloads withhold, and what makes a chart empty)."""

    COUNT = "count"  # counts (or rows' names): withheld as the table's layout says
    ESTIMATE = "estimate"  # worked out from counts of its row (`sources`): withheld with them
    SETTING = "setting"  # from the apps' published settings, or notes about them: never withheld


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    counters: tuple[Counter, ...] = ()  # what its figures add up; none for a column naming rows
    kind: Kind = Kind.COUNT
    sources: tuple[str, ...] = ()  # ESTIMATE: the columns of its row it is worked out from


@dataclass
class Table:
    layout: Layout
    columns: list[Column]
    rows: list[list[Any]]
    dimensions: int = 1  # leading columns that name a row (day, bucket, region...)
    # Columns adding up others of their row: left out of downloads, where they would give a
    # withheld figure away by subtraction.
    totals: tuple[str, ...] = ()
    stages: list[tuple[Counter, ...]] = field(default_factory=list)  # STAGES: each row's counters
    total: tuple[Counter, ...] = ()  # BUCKETS: what the buckets add up to
    # DAYS of national counters: columns that split one counter's day by bucket (the
    # countries a key came from...), whose day total another release publishes.
    breakdowns: tuple[tuple[Counter, tuple[str, ...]], ...] = ()
    notes: list[str] = field(default_factory=list)  # said under the chart (why no estimate...)

    @property
    def empty(self) -> bool:
        """Nothing to draw: every count is zero (estimates and settings are no data alone)."""
        counts = [
            i
            for i, column in enumerate(self.columns)
            if i >= self.dimensions and column.kind is Kind.COUNT
        ]
        return not any(row[i] for row in self.rows for i in counts)

    def counts(self) -> list[Column]:
        """The columns of counts, after those naming the rows."""
        return [c for c in self.columns[self.dimensions :] if c.kind is Kind.COUNT]

    def column(self, key: str) -> list[Any]:
        position = [column.key for column in self.columns].index(key)
        return [row[position] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        keys = [column.key for column in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]


def _days(scope: Scope, columns: list[Column], *, national: bool = False) -> Table:
    """A row per day of the scope (zeros included), a column per counter sum. `national`:
    the whole country, whatever the region (counters kept for the country only)."""
    wanted = {counter for column in columns for counter in column.counters}
    series = selectors.daily_counter_totals(scope, wanted, national=national)
    rows = [
        [
            day.isoformat(),
            *(sum(series[c].get(day, 0) for c in column.counters) for column in columns),
        ]
        for day in scope.days
    ]
    return Table(Layout.DAYS, [Column("day", _("Day")), *columns], rows)


# --- Codes -----------------------------------------------------------------------------------


def codes_per_day(scope: Scope) -> Table:
    return _days(
        scope,
        [
            Column("issued", _("Issued"), counters(code_metrics.OTP_ISSUED)),
            Column(
                "authorized", _("Authorized from the app"), counters(code_metrics.OTP_AUTHORIZED)
            ),
            Column("redeemed", _("Used for an upload"), counters(code_metrics.OTP_REDEEMED)),
            Column("expired", _("Expired unused"), counters(code_metrics.OTP_EXPIRED)),
            Column("revoked", _("Revoked"), counters(code_metrics.OTP_REVOKED)),
        ],
    )


def code_funnel(scope: Scope) -> Table:
    stages = [
        ("codes", _("Codes issued or authorized"), counters(*code_metrics.GRANTED)),
        ("redeemed", _("Codes used"), counters(code_metrics.OTP_REDEEMED)),
        ("uploads_with_keys", _("Uploads with keys"), counters(device_metrics.UPLOADS_WITH_KEYS)),
        ("keys_published", _("Keys published"), counters(key_metrics.KEYS_PUBLISHED)),
    ]
    totals = selectors.totals(scope, {c.metric for _k, _l, group in stages for c in group})
    rows: list[list[Any]] = [
        [key, label, sum(totals.get(c.metric, 0) for c in group)] for key, label, group in stages
    ]
    return Table(
        Layout.STAGES,
        [Column("stage", _("Stage")), Column("label", _("Label")), Column("value", _("Count"))],
        rows,
        dimensions=2,
        stages=[group for _k, _l, group in stages],
    )


def time_to_redeem(scope: Scope) -> Table:
    counts = selectors.bucket_totals(scope, code_metrics.OTP_TIME_TO_REDEEM)
    buckets = [name for _limit, name in code_metrics.TIME_TO_REDEEM_BUCKETS]
    buckets.append(code_metrics.LONGER_THAN_ALL_BUCKETS)
    return Table(
        Layout.BUCKETS,
        [Column("bucket", _("Time to use the code")), Column("codes", _("Codes"))],
        [[bucket, counts.get(bucket, 0)] for bucket in buckets],
        # Every code used is counted once in a bucket, on the day it is used.
        total=counters(code_metrics.OTP_REDEEMED),
    )


# --- Uploads and keys ------------------------------------------------------------------------


def uploads_per_day(scope: Scope) -> Table:
    return _days(
        scope,
        [
            Column("uploads", _("Uploads"), counters(device_metrics.UPLOADS)),
            Column(
                "uploads_with_keys",
                _("Uploads with keys"),
                counters(device_metrics.UPLOADS_WITH_KEYS),
            ),
            Column("keys", _("Keys received"), counters(key_metrics.KEYS_STORED)),
        ],
    )


def keys_per_upload(scope: Scope) -> Table:
    counts = selectors.bucket_totals(scope, device_metrics.KEYS_PER_UPLOAD)
    largest = max([30, *(int(bucket) for bucket in counts if bucket.isdigit())])
    return Table(
        Layout.BUCKETS,
        [Column("keys", _("Keys in the upload")), Column("uploads", _("Uploads"))],
        [[n, counts.get(str(n), 0)] for n in range(largest + 1)],
        total=counters(device_metrics.UPLOADS),
    )


def publication_per_day(scope: Scope) -> Table:
    keys = _days(
        scope, [Column("keys_published", _("Keys published"), counters(key_metrics.KEYS_PUBLISHED))]
    )
    batches = Column(
        "batches", _("Batch files (whole country)"), counters(key_metrics.BATCHES_PUBLISHED)
    )
    national = _days(scope, [batches], national=True)
    for row, country in zip(keys.rows, national.rows, strict=True):
        row.append(country[1])
    keys.columns.append(batches)
    return keys


# --- Device API ------------------------------------------------------------------------------


def failed_checks_per_day(scope: Scope) -> Table:
    return _days(
        scope,
        [
            Column(
                "check_otp",
                _("Code checks"),
                (Counter(device_metrics.FAILED_OTP_CHECKS, device_metrics.CHECK_OTP),),
            ),
            Column(
                "upload",
                _("Uploads"),
                (Counter(device_metrics.FAILED_OTP_CHECKS, device_metrics.UPLOAD),),
            ),
        ],
        national=True,
    )


def requests_per_day(scope: Scope) -> Table:
    table = _days(
        scope,
        [
            Column("real", _("Real requests"), counters(device_metrics.REAL_REQUESTS)),
            Column("dummy", _("Dummy requests"), counters(device_metrics.DUMMY_REQUESTS)),
            Column(
                "throttled",
                _("Refused: too many requests"),
                counters(device_metrics.THROTTLED_REQUESTS),
            ),
        ],
        national=True,
    )
    # What the settings ask of each app: read beside the dummy requests counted.
    days = sampling.sampling_days(scope)
    names = {sampling.ANDROID: "Android", sampling.IOS: "iOS"}
    for platform in sampling.PLATFORMS:
        table.columns.append(
            Column(
                f"dummy_per_app_{platform}",
                _("Dummy requests per app and day, from the %(platform)s settings")
                % {"platform": names[platform]},
                kind=Kind.SETTING,
            )
        )
    unknown = endless = 0
    for row in table.rows:
        day = days.get(date.fromisoformat(row[0]))
        for platform in sampling.PLATFORMS:
            settings = day.platforms.get(platform) if day else None
            rate = settings.dummy_per_day if settings else None
            row.append(round(rate, 4) if rate is not None else None)
            if settings is None:
                unknown += 1
            elif settings.requests_per_sequence is None:
                endless += 1
    if unknown:
        table.notes.append(
            _("No expected cover traffic on days before the apps' first settings version.")
        )
    if endless:
        table.notes.append(
            _(
                "No expected cover traffic on days when the settings let a dummy sequence go on"
                " until the app stops it (a last probability of 1)."
            )
        )
    return table


# --- The apps' operational info ----------------------------------------------------------------


def _app_info_columns() -> list[Column]:
    return [
        Column("app_reports", _("Apps reporting"), counters(app_metrics.APP_REPORTS)),
        Column(
            "exposure_notifications",
            _("Exposure notifications"),
            counters(app_metrics.EXPOSURE_NOTIFICATIONS),
        ),
        Column(
            "exposure_permission_on",
            _("Exposure notifications on"),
            counters(app_metrics.EXPOSURE_PERMISSION_ON),
        ),
        Column("bluetooth_on", _("Bluetooth on"), counters(app_metrics.BLUETOOTH_ON)),
        Column(
            "notification_permission_on",
            _("Notifications allowed"),
            counters(app_metrics.NOTIFICATION_PERMISSION_ON),
        ),
    ]


def app_info_per_day(scope: Scope) -> Table:
    """The reports counted, and the apps they stand for at the sampling rates of each day
    (authority/dashboard/sampling.py): the estimates are withheld in downloads whenever a
    count they are worked out from is."""
    table = _days(scope, _app_info_columns())
    sources = ("app_reports", "exposure_notifications")
    rate_labels = {
        (sampling.ANDROID, sampling.RATE_WITH): _("Android sampling rate, with an exposure"),
        (sampling.ANDROID, sampling.RATE_WITHOUT): _("Android sampling rate, without exposure"),
        (sampling.IOS, sampling.RATE_WITH): _("iOS sampling rate, with an exposure"),
        (sampling.IOS, sampling.RATE_WITHOUT): _("iOS sampling rate, without exposure"),
    }
    table.columns += [
        Column(
            "estimated_apps",
            _("Estimated apps (count ÷ sampling rate)"),
            kind=Kind.ESTIMATE,
            sources=sources,
        ),
        Column(
            "estimated_apps_with_exposure",
            _("Estimated apps that had notified an exposure"),
            kind=Kind.ESTIMATE,
            sources=("exposure_notifications",),
        ),
        Column("estimated_apps_low", _("Estimate, lowest"), kind=Kind.ESTIMATE, sources=sources),
        Column("estimated_apps_high", _("Estimate, highest"), kind=Kind.ESTIMATE, sources=sources),
        *(
            Column(f"{platform}_{key.removeprefix('operational_info_')}", label, kind=Kind.SETTING)
            for (platform, key), label in rate_labels.items()
        ),
        Column("rate_changed", _("Sampling rate changed"), kind=Kind.SETTING),
        Column("estimate_note", _("About the estimate"), kind=Kind.SETTING),
    ]
    days = sampling.sampling_days(scope)
    reports, exposed = (_position(table, key) for key in sources)
    noted: dict[str, int] = {}
    for row in table.rows:
        day = days.get(date.fromisoformat(row[0]))
        guess = sampling.estimate(row[reports], row[exposed], day)
        settings = [day.platforms.get(p) if day else None for p in sampling.PLATFORMS]
        rates = [
            getattr(platform, rate) if platform else None
            for platform in settings
            for rate in ("with_exposure", "without_exposure")
        ]
        row += [
            guess.apps,
            guess.with_exposure,
            guess.low,
            guess.high,
            *rates,
            bool(day and day.rates_changed),
            " ".join(guess.notes),
        ]
        for note in guess.notes:
            noted[note] = noted.get(note, 0) + 1
    table.notes = _estimate_notes(noted)
    return table


def _position(table: Table, key: str) -> int:
    return [column.key for column in table.columns].index(key)


def _estimate_notes(days: dict[str, int]) -> list[str]:
    """What the page says under the chart about the days without an estimate, or with an
    approximate one."""
    notes = []
    if count := days.get(sampling.NO_SETTINGS):
        notes.append(
            ngettext(
                "No estimate for %(count)s day: the apps' settings had no version yet, so"
                " there is no sampling rate to divide by.",
                "No estimate for %(count)s days: the apps' settings had no version yet, so"
                " there is no sampling rate to divide by.",
                count,
            )
            % {"count": count}
        )
    if count := days.get(sampling.RATE_ZERO):
        notes.append(
            ngettext(
                "No estimate for %(count)s day with a sampling rate of 0: apps were asked to"
                " send none of those reports, so their count says nothing about how many"
                " apps there are.",
                "No estimate for %(count)s days with a sampling rate of 0: apps were asked to"
                " send none of those reports, so their count says nothing about how many"
                " apps there are.",
                count,
            )
            % {"count": count}
        )
    if count := days.get(sampling.PLATFORMS_DIFFER):
        notes.append(
            ngettext(
                "Approximate on %(count)s day: Android and iOS had different rates, and"
                " reports with an exposure are not counted per platform, so the estimate is"
                " the middle of the shaded band, what the reports could stand for.",
                "Approximate on %(count)s days: Android and iOS had different rates, and"
                " reports with an exposure are not counted per platform, so the estimate is"
                " the middle of the shaded band, what the reports could stand for.",
                count,
            )
            % {"count": count}
        )
    if days.get(sampling.RATE_CHANGED):
        notes.append(
            _(
                "Approximate on the day a rate changed (marked, the estimate circled): phones"
                " take up new settings over the following hours."
            )
        )
    if count := days.get(sampling.BUILD_OVERRIDE):
        notes.append(
            ngettext(
                "Approximate on %(count)s day (circled): a build override gave some app builds"
                " other rates; the estimate uses the rates of the other builds.",
                "Approximate on %(count)s days (circled): a build override gave some app builds"
                " other rates; the estimate uses the rates of the other builds.",
                count,
            )
            % {"count": count}
        )
    return notes


def _areas(scope: Scope, columns: list[Column]) -> Table:
    """A row per region (all of them, by name), then abroad: uploads and reports of people
    living abroad belong to no region, and are in the country's figures."""
    wanted = {counter.metric for column in columns for counter in column.counters}
    totals = selectors.region_totals(scope, wanted)
    areas = [
        *Region.objects.order_by("name").values_list("pk", "code", "name"),
        (NATIONAL, ABROAD_CODE, str(ABROAD_NAME)),
    ]
    rows: list[list[Any]] = []
    for pk, code, name in areas:
        values = totals.get(pk, {})
        rows.append(
            [code, name, *(sum(values.get(c.metric, 0) for c in col.counters) for col in columns)]
        )
    header = [Column("region_code", _("Code")), Column("region", _("Region")), *columns]
    return Table(Layout.AREAS, header, rows, dimensions=2)


def app_info_by_region(scope: Scope) -> Table:
    return _areas(scope, _app_info_columns())


def regions_compared(scope: Scope) -> Table:
    return _areas(
        scope,
        [
            Column("codes", _("Codes issued or authorized"), counters(*code_metrics.GRANTED)),
            Column("redeemed", _("Codes used"), counters(code_metrics.OTP_REDEEMED)),
            Column("uploads", _("Uploads"), counters(device_metrics.UPLOADS)),
            Column("keys", _("Keys received"), counters(key_metrics.KEYS_STORED)),
        ],
    )


# --- Staff -------------------------------------------------------------------------------------


def codes_per_operator(scope: Scope) -> Table:
    """Who issued or authorized how many codes on which day, in one region."""
    issued = selectors.operator_daily_totals(scope, [code_metrics.OTP_ISSUED])
    authorized = selectors.operator_daily_totals(scope, [code_metrics.OTP_AUTHORIZED])
    operator_ids = sorted({op for _d, op in issued} | {op for _d, op in authorized})
    people = User.objects.in_bulk([op for op in operator_ids if op])
    names = {op: _operator_name(op, people.get(op)) for op in operator_ids}
    usernames = {op: people[op].username if op in people else "" for op in operator_ids}
    columns = [
        Column("day", _("Day")),
        Column("operator", _("Operator")),
        Column("username", _("Username")),
        Column("issued", _("Issued"), counters(code_metrics.OTP_ISSUED)),
        Column("authorized", _("Authorized from the app"), counters(code_metrics.OTP_AUTHORIZED)),
        Column("total", _("Total")),
    ]
    rows: list[list[Any]] = []
    for day in scope.days:
        for op in operator_ids:
            given = issued.get((day, op), 0)
            typed = authorized.get((day, op), 0)
            if given or typed:
                rows.append(
                    [day.isoformat(), names[op], usernames[op], given, typed, given + typed]
                )
    return Table(Layout.OPERATORS, columns, rows, dimensions=3, totals=("total",))


def _operator_name(operator_id: int, person: User | None) -> str:
    if selectors.is_machine_issuer(operator_id):
        return str(_("Health information system (API key)"))
    if person is not None:
        return person.display_name
    return _("Former operator #%(id)s") % {"id": operator_id}


def operator_series(table: Table) -> list[tuple[str, list[str], list[int]]]:
    """(name, days, codes) of each person in a table of codes per operator, by name."""
    people = sorted({(row[1], row[2]) for row in table.rows}, key=lambda p: (p[0].lower(), p[1]))
    series = []
    for name, username in people:
        mine = [row for row in table.rows if (row[1], row[2]) == (name, username)]
        series.append((name, [row[0] for row in mine], [row[5] for row in mine]))
    return series
