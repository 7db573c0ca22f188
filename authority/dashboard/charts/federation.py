"""The exchange with the European gateway as dashboard charts (tables and figures): our keys
uploaded per day, keys received per day by country of origin, and refused batches per day.

For administrators looking at the whole country only: federation is national (its counters
are the country's, authority/federation/metrics.py), as is the federation page, which shows
the same counters per country (authority/federation/selectors.py::exchange_figures).

What the small-count rule covers here (DESIGN.md 3.6, docs/statistics.md). These are counts
of keys and of batch files, not of people, and the rule's k is about people: a patient uploads
up to 30 keys, so no threshold on keys could tell one person from five. What protects our
patients happens before anything is counted: keys are shared only once no longer valid, in
batches of at least FEDERATION_UPLOAD_MIN_KEYS (150: at least five people), and foreign keys
are other countries' publications, which every gateway member receives with their origin.
So the charts drawn on the page are exact, as on the federation page (administrators only).
The downloads still withhold with the one rule, exactly as every other download does and as
/metrics does for these same counters: a figure withheld by one release and shown by another
would make the rule meaningless, and one rule everywhere is what keeps the releases
consistent (STYLE.md). Each day's figure is a cell of the country's (withheld from 1 to k-1);
the countries of one day's received keys, and the reasons of its refusals, are breakdowns of
that day's total, which /metrics publishes, protected as a group (exports.py), so that no
subtraction gives a withheld one back. No download carries a day's total next to its parts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from authority.dashboard import selectors
from authority.dashboard.charts.figures import PALETTE, Figure, daily_bar, day_figure, today_iso
from authority.dashboard.charts.tables import Column, Layout, Table
from authority.dashboard.counters import Counter
from authority.dashboard.selectors import Scope
from authority.federation import metrics

# Received keys: the countries with the most keys over the period each get their bars, the
# others one bar together (27 colours would tell nothing apart).
SHOWN_ORIGINS = 7


def _reason(code: str) -> str:
    """Why a part of a received batch was refused (authority/formats/efgs/verification.py)."""
    labels = {
        "audit": _("the audit entries do not match the keys"),
        "trust_anchor": _("certificate not signed by the trust anchor"),
        "certificate": _("wrong signing certificate"),
        "country": _("certificate of another country"),
        "malformed": _("signature unreadable"),
        "no_certificate": _("no certificate in the signature"),
        "algorithm": _("algorithm not accepted"),
        "signature": _("signature does not verify"),
        "expired": _("certificate not valid at upload"),
        "origin": _("keys of another origin"),
    }
    return labels.get(code, code)


def _status(code: str) -> str:
    if code == "207":
        return _("207: some keys already on the gateway, the others sent again")
    return _("HTTP %(status)s") % {"status": code}


# Every counter the three charts draw, read once per page (`Scope.shared`).
_METRICS = (
    metrics.KEYS_SHARED,
    metrics.KEYS_RECEIVED,
    metrics.CHUNKS_REFUSED,
    metrics.UPLOADS_REFUSED,
)


def _exchange(scope: Scope) -> dict[str, dict[str, dict[date, int]]]:
    """metric -> bucket -> day -> keys or batches, for the federation's counters."""
    if "federation" not in scope.shared:
        scope.shared["federation"] = selectors.daily_bucket_totals(scope, _METRICS, national=True)
    read: dict[str, dict[str, dict[date, int]]] = scope.shared["federation"]
    return read


def _whole(buckets: dict[str, dict[date, int]]) -> dict[date, int]:
    """A counter's day totals, all its buckets together."""
    totals: dict[date, int] = {}
    for series in buckets.values():
        for day, value in series.items():
            totals[day] = totals.get(day, 0) + value
    return totals


def _national_days(
    scope: Scope, columns: list[Column], values: dict[str, dict[date, int]]
) -> Table:
    rows = [
        [day.isoformat(), *(values.get(column.key, {}).get(day, 0) for column in columns)]
        for day in scope.days
    ]
    return Table(Layout.DAYS, [Column("day", _("Day")), *columns], rows)


# --- Tables ----------------------------------------------------------------------------------


def keys_uploaded_per_day(scope: Scope) -> Table:
    column = Column(
        "keys_shared", _("Keys uploaded to the gateway"), (Counter(metrics.KEYS_SHARED),)
    )
    shared = _whole(_exchange(scope).get(metrics.KEYS_SHARED, {}))
    return _national_days(scope, [column], {column.key: shared})


def keys_received_per_day(scope: Scope) -> Table:
    """A column per country of origin (by code), in the order of their keys over the period."""
    by_origin = _exchange(scope).get(metrics.KEYS_RECEIVED, {})
    origins = sorted(
        (code for code in by_origin if code),
        key=lambda code: (-sum(by_origin[code].values()), code),
    )
    columns = [Column(code, code, (Counter(metrics.KEYS_RECEIVED, code),)) for code in origins]
    table = _national_days(scope, columns, by_origin)
    table.breakdowns = ((Counter(metrics.KEYS_RECEIVED), tuple(c.key for c in columns)),)
    return table


def batches_refused_per_day(scope: Scope) -> Table:
    """Parts of received batches that did not verify, and our uploads the gateway refused:
    each day's total, then its split by reason or by the gateway's answer."""
    read = _exchange(scope)
    reasons = read.get(metrics.CHUNKS_REFUSED, {})
    statuses = read.get(metrics.UPLOADS_REFUSED, {})
    received = [
        Column(
            f"parts_refused_{code}",
            _("Received, refused: %(reason)s") % {"reason": _reason(code)},
            (Counter(metrics.CHUNKS_REFUSED, code),),
        )
        for code in sorted(reasons)
    ]
    sent = [
        Column(
            f"uploads_refused_{code}",
            _("Uploaded, refused: %(status)s") % {"status": _status(code)},
            (Counter(metrics.UPLOADS_REFUSED, code),),
        )
        for code in sorted(statuses)
    ]
    columns = [
        Column(
            "parts_refused",
            _("Parts of received batches refused (did not verify)"),
            (Counter(metrics.CHUNKS_REFUSED),),
        ),
        Column(
            "uploads_refused",
            _("Our uploads refused by the gateway"),
            (Counter(metrics.UPLOADS_REFUSED),),
        ),
        *received,
        *sent,
    ]
    values: dict[str, dict[date, int]] = {
        "parts_refused": _whole(reasons),
        "uploads_refused": _whole(statuses),
        **{f"parts_refused_{code}": series for code, series in reasons.items()},
        **{f"uploads_refused_{code}": series for code, series in statuses.items()},
    }
    table = _national_days(scope, columns, values)
    table.breakdowns = (
        (Counter(metrics.CHUNKS_REFUSED), tuple(c.key for c in received)),
        (Counter(metrics.UPLOADS_REFUSED), tuple(c.key for c in sent)),
    )
    return table


# --- Figures ---------------------------------------------------------------------------------


def keys_uploaded_figure(table: Table) -> Figure:
    today = today_iso()
    bars = daily_bar(
        name=_("Keys uploaded to the gateway"),
        x=table.column("day"),
        y=table.column("keys_shared"),
        marker={"color": PALETTE[0]},
        today=today,
    )
    return day_figure(table, [bars], today, showlegend=False, yaxis={"title": {"text": _("Keys")}})


def keys_received_figure(table: Table) -> Figure:
    """Stacked bars by country of origin, the largest first; the rest together."""
    today = today_iso()
    x = table.column("day")
    origins = [column.key for column in table.columns[1:]]
    shown = origins if len(origins) <= SHOWN_ORIGINS + 1 else origins[:SHOWN_ORIGINS]
    others = [code for code in origins if code not in shown]
    data: list[Any] = [
        daily_bar(
            name=code,
            x=x,
            y=table.column(code),
            marker={"color": PALETTE[position % len(PALETTE)]},
            today=today,
            hovertemplate=f"{code}: %{{y:,d}}<extra></extra>",
        )
        for position, code in enumerate(shown)
    ]
    if others:
        name = _("Other countries")
        columns = [table.column(code) for code in others]
        data.append(
            daily_bar(
                name=name,
                x=x,
                y=[sum(values) for values in zip(*columns, strict=True)],
                marker={"color": PALETTE[7]},
                today=today,
                customdata=[
                    ", ".join(
                        f"{code} {value}"
                        for code, value in zip(others, values, strict=True)
                        if value
                    )
                    or "–"
                    for values in zip(*columns, strict=True)
                ],
                hovertemplate=f"{name}: %{{y:,d}} (%{{customdata}})<extra></extra>",
            )
        )
    return day_figure(table, data, today, barmode="stack", yaxis={"title": {"text": _("Keys")}})


def batches_refused_figure(table: Table) -> Figure:
    """Two stacked bars a day, received and sent; the hover label says why."""
    today = today_iso()
    records = table.records()
    x = [record["day"] for record in records]
    data = []
    for key, colour in (("parts_refused", PALETTE[3]), ("uploads_refused", PALETTE[1])):
        column = next(c for c in table.columns if c.key == key)
        explain = _reason if key == "parts_refused" else _status
        parts = [
            (c.key, explain(c.key.removeprefix(f"{key}_")))
            for c in table.columns
            if c.key.startswith(f"{key}_")
        ]
        why = [
            "<br>".join(f"{text}: {record[part]}" for part, text in parts if record[part])
            for record in records
        ]
        data.append(
            daily_bar(
                name=str(column.label),
                x=x,
                y=[record[key] for record in records],
                marker={"color": colour},
                today=today,
                customdata=why,
                hovertemplate=f"{column.label}: %{{y:,d}}<br><i>%{{customdata}}</i><extra></extra>",
            )
        )
    highest = max(
        (record["parts_refused"] + record["uploads_refused"] for record in records), default=0
    )
    axis: dict[str, Any] = {"title": {"text": _("Batches")}, "tickformat": ",d"}
    if highest <= 5:
        axis["dtick"] = 1  # whole batches: no tick at 0.2 written as 0
    return day_figure(table, data, today, barmode="stack", yaxis=axis)
