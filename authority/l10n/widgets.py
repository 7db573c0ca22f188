"""Form widgets for the browser's own date and time fields, which take ISO values only."""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class IsoDateInput(forms.DateInput):
    """`<input type="date">` with its value as YYYY-MM-DD in every language: a browser refuses
    05/09/2026 and shows the field empty."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE)


class IsoDateTimeLocalInput(forms.DateTimeInput):
    """`<input type="datetime-local">` with its value as YYYY-MM-DDTHH:MM, in local time."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATETIME_LOCAL)
