"""One convention per language for dates and times (docs/dates-and-times.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django import forms
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from authority.accounts.audit_details import shown_details
from authority.l10n.widgets import IsoDateInput

# A Friday in winter (CET, UTC+1) and a day in summer (CEST, UTC+2).
WINTER = datetime(2026, 12, 4, 7, 14, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 3, 22, 30, tzinfo=UTC)


def render(source: str, language: str, **context: object) -> str:
    with translation.override(language):
        return Template("{% load datetimes %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "4 December 2026, 08:14 | 04/12/2026 08:14 | 4 December 2026 | 04/12/2026"),
        ("it", "4 dicembre 2026, 08:14 | 04/12/2026 08:14 | 4 dicembre 2026 | 04/12/2026"),
    ],
)
def test_a_template_renders_a_moment_day_before_month_in_24_hours(language, expected):
    source = (
        '{{ m }} | {{ m|date:"SHORT_DATETIME_FORMAT" }} | {{ m|date:"DATE_FORMAT" }}'
        ' | {{ m|date:"SHORT_DATE_FORMAT" }}'
    )
    assert render(source, language, m=WINTER) == expected


def test_italian_names_are_lowercase_and_the_day_is_not_padded():
    assert render('{{ m|date:"l j F Y" }}', "it", m=WINTER) == "venerdì 4 dicembre 2026"
    assert render('{{ m|date:"D j N" }}', "it", m=WINTER) == "ven 4 dic."
    assert render('{{ d|date:"DATE_FORMAT" }}', "it", d=date(2026, 9, 5)) == "5 settembre 2026"


@pytest.mark.parametrize("language", ["en", "it"])
def test_deadlines_and_runs_name_the_zone_daylight_saving_included(language):
    winter = render("{{ m|zoned }}", language, m=WINTER)
    summer = render('{{ m|zoned:"short" }}', language, m=SUMMER)
    assert winter.endswith("2026, 08:14 CET")
    assert summer == "04/07/2026 00:30 CEST"  # past midnight in Rome: the next day


def test_the_audit_trail_shows_seconds():
    assert render("{{ m|to_the_second }}", "it", m=WINTER) == "04/12/2026 08:14:05"


def test_an_empty_moment_renders_nothing():
    assert render("{{ m|zoned }}{{ m|to_the_second }}", "en", m=None) == ""


@pytest.mark.parametrize("language", ["en", "it"])
def test_date_inputs_get_iso_values_in_every_language(language):
    with translation.override(language):
        html = IsoDateInput().render("since", date(2026, 9, 5))
        plain = forms.DateInput().render("since", date(2026, 9, 5))
    assert 'type="date"' in html
    assert 'value="2026-09-05"' in html
    assert 'value="2026-09-05"' in plain  # ISO first among the input formats too


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "shown"), [("en", "05/09/2026"), ("it", "05/09/2026")])
def test_the_statistics_page_keeps_the_chosen_dates_as_iso(
    language, shown, signed_in, administrator
):
    client = signed_in(administrator)
    client.cookies["django_language"] = language
    response = client.get(reverse("dashboard:overview"), {"since": "2026-09-05"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="since" value="2026-09-05"' in page
    assert shown in page  # the period named above the charts, day first


@pytest.mark.parametrize("typed", ["05/09/2026", "2026-09-05"])
def test_day_first_dates_are_read_never_month_first(typed):
    with translation.override("en"):
        field = forms.DateField()
        assert field.clean(typed) == date(2026, 9, 5)


def test_audit_details_are_labelled_and_their_times_localized():
    details = {"expires_at": "2026-12-04T07:44:51.699476+00:00", "via": "web", "role": "operator"}
    with translation.override("en"):
        shown = [(d.label, d.value) for d in shown_details(details)]
    assert shown == [
        ("expires", "04/12/2026 08:44:51 CET"),
        ("via", "web"),
        ("role", "Operator"),
    ]
