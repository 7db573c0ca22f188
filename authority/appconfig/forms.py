"""The settings form, built from the catalogue: one field per setting of the platform, grouped
by section, each with its meaning, unit and range; a refused value gets its message beside its
field (from authority.appconfig.validation, the same rules the publication checks).

The override form is the same form for a range of builds: what differs from the base is what
the override stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from authority.appconfig import catalogue, services
from authority.appconfig.catalogue import (
    ANDROID,
    BUCKET_LABELS,
    LANGUAGES,
    MAX_BUILD,
    PHONE_LANGUAGE_TEXTS,
    SECTION_TITLES,
    Kind,
    Setting,
)
from authority.appconfig.display import describe_range, format_value, humanize_seconds
from authority.appconfig.validation import LANGUAGE_CODE, MAX_LANGUAGES, phone_languages
from authority.l10n.widgets import IsoDateInput

LANGUAGE_NAMES = {
    "it": gettext_lazy("Italian"),
    "en": gettext_lazy("English"),
    "de": gettext_lazy("German"),
    "fr": gettext_lazy("French"),
    "es": gettext_lazy("Spanish"),
}


class LabelledMultiWidget(forms.MultiWidget):
    """Several inputs, each with its own visible label (a bucket's range, a language)."""

    template_name = "appconfig/widgets/labelled_multi.html"

    def __init__(
        self,
        widgets: list[forms.Widget],
        labels: list[Any],
        *,
        keys: tuple[str, ...] = (),
        layout: str = "row",
    ) -> None:
        super().__init__(widgets)
        self.labels = labels
        self.keys = keys  # dict values are decompressed in this order
        self.layout = layout  # "row" (side by side), "lines" (label beside), "stacked"

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [value.get(key) for key in self.keys]
        if isinstance(value, list | tuple):
            return list(value)
        return [None] * len(self.widgets)

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        if isinstance(value, dict):
            value = self.decompress(value)
        context = super().get_context(name, value, attrs)
        for subwidget, label in zip(context["widget"]["subwidgets"], self.labels, strict=False):
            subwidget["label"] = label
        context["widget"]["layout"] = self.layout
        return context


def _lines_to_map(text: str, *, numbers: bool) -> dict[str, Any]:
    """ "AT = AUSTRIA" lines -> {"AT": "AUSTRIA"} (numbers: the values are whole numbers)."""
    result: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, separator, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not separator or not key:
            raise ValidationError(
                _("Line %(n)s: write the code, “=”, then the value.") % {"n": number}
            )
        if key in result:
            raise ValidationError(
                _("Line %(n)s: %(key)s is listed twice.") % {"n": number, "key": key}
            )
        if numbers:
            try:
                result[key] = int(value)
            except ValueError:
                raise ValidationError(
                    _("Line %(n)s: %(value)s is not a whole number.")
                    % {"n": number, "value": value}
                ) from None
        else:
            result[key] = value
    return result


def _map_to_lines(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    return "\n".join(f"{key} = {text}" for key, text in value.items())


class ListField(forms.MultiValueField):
    """A fixed number of whole numbers (bucket scores, thresholds)."""

    def __init__(self, labels: list[Any], **kwargs: Any) -> None:
        widget = LabelledMultiWidget(
            [
                forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"})
                for _ in labels
            ],
            labels,
            layout="scores" if len(labels) == 8 else "row",
        )
        fields = [forms.IntegerField(required=False) for _ in labels]
        super().__init__(fields, widget=widget, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list: list[Any]) -> list[Any]:
        return list(data_list) if data_list else []


class LanguageMapField(forms.MultiValueField):
    """One entry per language: an address, a text, or "CODE = text" lines."""

    def __init__(self, kind: Kind, **kwargs: Any) -> None:
        self.kind = kind
        inputs: list[forms.Widget] = [
            forms.URLInput(attrs={"class": "form-control"})
            if kind is Kind.URL_MAP
            else forms.Textarea(attrs={"class": "form-control", "rows": 4})
            for _ in LANGUAGES
        ]
        widget = LabelledMultiWidget(
            inputs,
            [LANGUAGE_NAMES[language] for language in LANGUAGES],
            keys=LANGUAGES,
            layout="lines" if kind is Kind.URL_MAP else "stacked",
        )
        fields = [
            forms.CharField(required=False, strip=kind is not Kind.TEXT_MAP) for _ in LANGUAGES
        ]
        super().__init__(fields, widget=widget, require_all_fields=False, required=False, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if self.kind is Kind.NAMED_MAP and isinstance(value, dict):
            return [_map_to_lines(value.get(language)) for language in LANGUAGES]
        return value

    def compress(self, data_list: list[Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        errors = []
        for language, text in zip(LANGUAGES, data_list or [], strict=False):
            if text is None or not str(text).strip():
                continue  # missing: the validation says which languages
            if self.kind is Kind.NAMED_MAP:
                try:
                    result[language] = _lines_to_map(text, numbers=False)
                except ValidationError as error:
                    errors.append(f"{LANGUAGE_NAMES[language]}: {error.messages[0]}")
            elif self.kind is Kind.TEXT_MAP:
                result[language] = text.replace("\r\n", "\n").strip()
            else:
                result[language] = text
        if errors:
            raise ValidationError(errors)
        return result


class LinesField(forms.CharField):
    """One entry per line: names, probabilities (0.95 or 0,95), or "name = number"."""

    def __init__(self, kind: Kind, **kwargs: Any) -> None:
        self.kind = kind
        kwargs.setdefault("widget", forms.Textarea(attrs={"class": "form-control", "rows": 4}))
        super().__init__(required=False, strip=True, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if self.kind is Kind.NUMBER_MAP and isinstance(value, dict):
            return _map_to_lines(value)
        if isinstance(value, list):
            return "\n".join(format_value(None, item) for item in value)
        return value

    def clean(self, value: Any) -> Any:
        text = super().clean(value) or ""
        if self.kind is Kind.NUMBER_MAP:
            return _lines_to_map(text, numbers=True)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if self.kind is Kind.PROBABILITIES:
            values = []
            for number, line in enumerate(lines, start=1):
                try:
                    values.append(float(line.replace(",", ".")))
                except ValueError:
                    raise ValidationError(
                        _("Line %(n)s: %(value)s is not a number.") % {"n": number, "value": line}
                    ) from None
            return values
        return lines


class OptionalTextField(forms.CharField):
    """Empty means none (null in the document)."""

    def clean(self, value: Any) -> Any:
        return super().clean(value) or None


class PhoneLanguagesField(forms.CharField):
    """Language codes ("ro, ar sq"): the phone languages that get the English texts the Android
    app looks up by the phone's language (catalogue.PHONE_LANGUAGE_TEXTS)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            strip=True,
            widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        codes = [code.lower() for code in text.replace(",", " ").split()]
        bad = [code for code in codes if not LANGUAGE_CODE.fullmatch(code)]
        if bad:
            raise ValidationError(
                _(
                    "%(codes)s: not a language code as phones report it (two or three "
                    "lowercase letters, like ro or fil)."
                )
                % {"codes": ", ".join(bad)}
            )
        extra = sorted(set(codes) - set(LANGUAGES))
        if len(extra) + len(LANGUAGES) > MAX_LANGUAGES:
            raise ValidationError(
                _("At most %(n)s languages.") % {"n": MAX_LANGUAGES - len(LANGUAGES)}
            )
        return extra


def field_for(setting: Setting, platform: str) -> forms.Field:
    kind = setting.kind
    low, high = setting.bounds(platform)
    number_attrs: dict[str, Any] = {"class": "form-control", "inputmode": "numeric"}
    if kind in (Kind.INTEGER, Kind.SECONDS):
        return forms.IntegerField(
            required=False,
            widget=forms.NumberInput(attrs={**number_attrs, "min": low, "max": high}),
        )
    if kind in (Kind.PROBABILITY, Kind.WEIGHT):
        return forms.FloatField(
            required=False,
            localize=True,
            widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "decimal"}),
        )
    if kind is Kind.SCORES:
        return ListField(list(BUCKET_LABELS[setting.buckets]))
    if kind is Kind.THRESHOLDS:
        return ListField([gettext_lazy("Lower (dB)"), gettext_lazy("Higher (dB)")])
    if kind in (Kind.URL_MAP, Kind.TEXT_MAP, Kind.NAMED_MAP):
        return LanguageMapField(kind)
    if kind in (Kind.PROBABILITIES, Kind.NUMBER_MAP, Kind.NAME_LIST):
        return LinesField(kind)
    if kind is Kind.BOOLEAN:
        return forms.BooleanField(
            required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
        )
    if kind in (Kind.PHONE, Kind.EMAIL):
        widget = forms.EmailInput if kind is Kind.EMAIL else forms.TextInput
        return OptionalTextField(required=False, widget=widget(attrs={"class": "form-control"}))
    return forms.CharField(required=False, widget=forms.TextInput(attrs={"class": "form-control"}))


@dataclass(frozen=True)
class SettingRow:
    field: BoundField
    setting: Setting
    range_text: str
    current: str  # the value as saved, in words (a duration in hours)
    multiple: bool  # several inputs: a fieldset with a legend


class SettingsForm(forms.Form):
    """Every setting of one platform, plus the declared newest build and the draft revision."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(
        self,
        *args: Any,
        platform: str,
        content: services.Content,
        revision: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.base = content
        self.settings_shown = catalogue.settings_for(platform)
        self.fields["revision"].initial = revision
        for setting in self.settings_shown:
            field = field_for(setting, platform)
            field.label = setting.label  # type: ignore[assignment]  # a lazy string
            try:
                field.initial = catalogue.read(self.initial_document(), setting)
            except KeyError:
                field.initial = None
            self.fields[setting.form_name] = field
        self.add_extra_fields()
        for name, field in self.fields.items():
            if name != "revision":
                field.widget.attrs["aria-describedby"] = f"{name}-help"

    # What the form starts from and what it makes of its values.

    def initial_document(self) -> dict[str, Any]:
        return self.base.document

    def add_extra_fields(self) -> None:
        if self.platform == ANDROID:
            self.fields["phone_languages"] = PhoneLanguagesField(
                label=gettext_lazy("Other phone languages")
            )
            self.fields["phone_languages"].initial = phone_languages(self.initial_document())
        self.fields["newest_build"] = forms.IntegerField(
            required=False,
            label=gettext_lazy("Newest build in the stores"),
            widget=forms.NumberInput(
                attrs={"class": "form-control", "min": 1, "max": MAX_BUILD[self.platform]}
            ),
        )
        self.fields["newest_build"].initial = self.base.newest_build

    def document(self) -> dict[str, Any]:
        """The settings document made of the cleaned values."""
        document: dict[str, Any] = {}
        for setting in self.settings_shown:
            catalogue.write(document, setting, self.cleaned_data.get(setting.form_name))
        self.add_phone_languages(document)
        return document

    def add_phone_languages(self, document: dict[str, Any]) -> None:
        """The English texts again under each other phone language (the form edits the apps'
        five; the document carries what the Android app looks up by the phone's language)."""
        if "phone_languages" in self.fields:
            languages = self.cleaned_data.get("phone_languages") or []
        else:  # a form without the field keeps what the document had
            languages = phone_languages(self.initial_document())
        for key in PHONE_LANGUAGE_TEXTS:
            texts = document.get(key)
            if isinstance(texts, dict) and "en" in texts:
                for language in languages:
                    texts[language] = texts["en"]

    def has_phone_languages(self) -> bool:
        return "phone_languages" in self.fields

    def content(self) -> services.Content:
        return services.Content(
            self.document(), self.base.overrides, self.cleaned_data.get("newest_build")
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned  # a value that is not even a number: fix that first
        self.attach(services.content_problems(self.platform, self.content()))
        return cleaned

    def attach(self, problems: list[services.DraftProblem]) -> None:
        """Each refused value beside its field; what concerns the whole draft above the form."""
        for problem in problems:
            name = problem.key.replace(".", "__")
            message = problem.message
            if problem.first_build is not None:
                message = _("Builds %(first)s to %(last)s: %(problem)s") % {
                    "first": problem.first_build,
                    "last": problem.last_build,
                    "problem": message,
                }
                self.add_error(None, f"{_label(problem.key)}: {message}")
            elif name in self.fields:
                self.add_error(name, message)
            else:
                self.add_error(None, message)

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{name}-help {name}-error"

    # What the template shows.

    def sections(self) -> list[tuple[str, str, list[SettingRow]]]:
        result = []
        for section, members in catalogue.sections_for(self.platform):
            rows = []
            for setting in members:
                current = ""
                value = self.fields[setting.form_name].initial
                if setting.kind is Kind.SECONDS and isinstance(value, int):
                    current = humanize_seconds(value)
                rows.append(
                    SettingRow(
                        self[setting.form_name],
                        setting,
                        describe_range(setting, self.platform),
                        current,
                        setting.kind
                        in (
                            Kind.SCORES,
                            Kind.THRESHOLDS,
                            Kind.URL_MAP,
                            Kind.TEXT_MAP,
                            Kind.NAMED_MAP,
                        ),
                    )
                )
            result.append((section.value, str(SECTION_TITLES[section]), rows))
        return result


def _label(key: str) -> str:
    setting = catalogue.BY_KEY.get(key)
    return str(setting.label) if setting else key


class OverrideForm(SettingsForm):
    """The settings for a range of builds: starts from the base with this override applied;
    stores only what differs from the base."""

    def __init__(self, *args: Any, index: int | None, **kwargs: Any) -> None:
        self.index = index  # None: a new override
        content: services.Content = kwargs["content"]
        self.existing = content.overrides[index] if index is not None else None
        super().__init__(*args, **kwargs)
        highest = MAX_BUILD[self.platform]
        for name, label in (
            ("from_build", gettext_lazy("From build")),
            ("to_build", gettext_lazy("To build")),
        ):
            # Before the settings' fields, as the page shows them.
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=highest,
                label=label,
                widget=forms.NumberInput(
                    attrs={
                        "class": "form-control",
                        "min": 1,
                        "max": highest,
                        "aria-describedby": "builds-help",
                    }
                ),
            )
        if self.existing is not None:
            self.fields["from_build"].initial = self.existing.get("from_build")
            self.fields["to_build"].initial = self.existing.get("to_build")

    def initial_document(self) -> dict[str, Any]:
        values = self.existing.get("values", {}) if self.existing else {}
        return {**self.base.document, **values}

    def clean(self) -> dict[str, Any]:
        low, high = self.cleaned_data.get("from_build"), self.cleaned_data.get("to_build")
        if not self.has_error("from_build") and not self.has_error("to_build"):
            if low is None and high is None:
                self.add_error("from_build", _("Give the first build, the last build, or both."))
            elif low is not None and high is not None and low > high:
                self.add_error("to_build", _("The last build cannot be before the first."))
        if not self.errors and not self.override()["values"]:
            self.add_error(
                None, _("These values are the same as for every build: change at least one.")
            )
        return super().clean()

    def add_extra_fields(self) -> None:
        pass  # the phone languages and the newest build are the base's (edit page)

    def override(self) -> dict[str, Any]:
        document = self.document()
        values = {
            key: value for key, value in document.items() if self.base.document.get(key) != value
        }
        return {
            "from_build": self.cleaned_data.get("from_build"),
            "to_build": self.cleaned_data.get("to_build"),
            "values": values,
        }

    def content(self) -> services.Content:
        overrides = list(self.base.overrides)
        if self.index is None:
            overrides.append(self.override())
        else:
            overrides[self.index] = self.override()
        return services.Content(self.base.document, overrides, self.base.newest_build)

    def attach(self, problems: list[services.DraftProblem]) -> None:
        """This override's problems beside its fields; the rest above the form."""
        mine = self.override()
        low = mine["from_build"] or 1
        high = mine["to_build"] or MAX_BUILD[self.platform]
        for problem in problems:
            name = problem.key.replace(".", "__")
            inside = problem.first_build is not None and low <= problem.first_build <= high
            if inside and name in self.fields:
                self.add_error(
                    name,
                    _("Builds %(first)s to %(last)s: %(problem)s")
                    % {
                        "first": problem.first_build,
                        "last": problem.last_build,
                        "problem": problem.message,
                    },
                )
            else:
                super().attach([problem])


class PublishForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    in_force = forms.IntegerField(widget=forms.HiddenInput, required=False)
    when = forms.ChoiceField(
        label=gettext_lazy("In force"),
        choices=[
            ("now", gettext_lazy("At once")),
            ("later", gettext_lazy("At a chosen time")),
        ],
        initial="now",
        widget=forms.RadioSelect,
    )
    activates_on = forms.DateField(
        required=False,
        label=gettext_lazy("Date"),
        widget=IsoDateInput(attrs={"class": "form-control"}),
    )
    activates_time = forms.TimeField(
        required=False,
        label=gettext_lazy("Time"),
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
    )
    note = forms.CharField(
        required=False,
        max_length=500,
        label=gettext_lazy("Reason for the change"),
        help_text=gettext_lazy("Kept with the version and in the audit trail."),
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I have checked the changes and the risk preview: publish them to every phone."
        ),
        error_messages={"required": gettext_lazy("Tick the box to confirm the publication.")},
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["activates_at"] = None
        if cleaned.get("when") == "later":
            day, moment = cleaned.get("activates_on"), cleaned.get("activates_time")
            if day is None:
                self.add_error("activates_on", _("Choose the day it comes into force."))
            else:
                cleaned["activates_at"] = datetime.combine(
                    day, moment or time.min, timezone.get_current_timezone()
                )
        return cleaned
