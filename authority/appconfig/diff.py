"""What a draft or a rollback changes against the version in force, setting by setting (and
language by language in the maps), as the review page and the audit trail show it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

from authority.appconfig.catalogue import BY_KEY, Kind, Setting, read, settings_for
from authority.appconfig.display import NONE, format_value

# The audit trail keeps values this long at most (a guidance text can be pages long).
AUDIT_VALUE_CHARS = 300


@dataclass(frozen=True)
class Change:
    key: str  # catalogue key, "overrides" or "newest_build"
    label: str
    detail: str  # the language, or the language and code, of a map entry; else ""
    before: str
    after: str

    def for_audit(self) -> dict[str, str]:
        entry = asdict(self)
        del entry["label"]
        for side in ("before", "after"):
            if len(entry[side]) > AUDIT_VALUE_CHARS:
                entry[side] = entry[side][: AUDIT_VALUE_CHARS - 1] + "…"
        return entry


def _value(document: dict[str, Any] | None, setting: Setting) -> Any:
    if document is None:
        return None
    try:
        return read(document, setting)
    except (KeyError, TypeError):
        return None


def _map_changes(setting: Setting, before: Any, after: Any) -> list[Change]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if setting.kind is Kind.NAMED_MAP and isinstance(old or new, dict):
            inner_old = old if isinstance(old, dict) else {}
            inner_new = new if isinstance(new, dict) else {}
            for code in sorted(set(inner_old) | set(inner_new)):
                if inner_old.get(code) != inner_new.get(code):
                    changes.append(
                        Change(
                            setting.key,
                            str(setting.label),
                            f"{key} · {code}",
                            format_value(None, inner_old.get(code)),
                            format_value(None, inner_new.get(code)),
                        )
                    )
            continue
        changes.append(
            Change(
                setting.key,
                str(setting.label),
                key,
                format_value(None, old),
                format_value(None, new),
            )
        )
    return changes


def document_changes(
    platform: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> list[Change]:
    changes: list[Change] = []
    for setting in settings_for(platform):
        old, new = _value(before, setting), _value(after, setting)
        if old == new:
            continue
        if setting.kind in (Kind.URL_MAP, Kind.TEXT_MAP, Kind.NAMED_MAP, Kind.NUMBER_MAP):
            changes.extend(_map_changes(setting, old, new))
        else:
            changes.append(
                Change(
                    setting.key,
                    str(setting.label),
                    "",
                    format_value(setting, old),
                    format_value(setting, new),
                )
            )
    return changes


def describe_override(override: dict[str, Any]) -> str:
    """ "Builds 120 and later: Minimum app build = 120; ..." """
    low, high = override.get("from_build"), override.get("to_build")
    if low and high:
        builds = _("Builds %(first)s to %(last)s") % {"first": low, "last": high}
    elif low:
        builds = _("Builds %(first)s and later") % {"first": low}
    else:
        builds = _("Builds up to %(last)s") % {"last": high}
    values = []
    for name, value in sorted(override.get("values", {}).items()):
        setting = BY_KEY.get(name)
        label = str(setting.label) if setting else name
        if setting is None or setting.kind in (Kind.URL_MAP, Kind.TEXT_MAP, Kind.NAMED_MAP):
            values.append(_("%(setting)s changed") % {"setting": label})
        else:
            values.append(f"{label} = {format_value(setting, value)}")
    return f"{builds}: {'; '.join(values)}"


def diff_contents(
    platform: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> list[Change]:
    """Changes from `before` (a version's or draft's `content`; None: nothing yet) to `after`."""
    changes = document_changes(platform, before["document"] if before else None, after["document"])
    old_overrides = before["overrides"] if before else []
    new_overrides = after["overrides"]
    for index in range(max(len(old_overrides), len(new_overrides))):
        old = old_overrides[index] if index < len(old_overrides) else None
        new = new_overrides[index] if index < len(new_overrides) else None
        if old != new:
            changes.append(
                Change(
                    "overrides",
                    _("Build override %(n)s") % {"n": index + 1},
                    "",
                    describe_override(old) if old else NONE,
                    describe_override(new) if new else NONE,
                )
            )
    old_newest = before["newest_build"] if before else None
    if old_newest != after["newest_build"]:
        changes.append(
            Change(
                "newest_build",
                _("Newest build in the stores"),
                "",
                format_value(None, old_newest),
                format_value(None, after["newest_build"]),
            )
        )
    return changes
