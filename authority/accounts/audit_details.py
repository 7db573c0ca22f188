"""An audit entry's details as people read them: named in their language, times localized.

The trail stores details as JSON with ISO 8601 timestamps and English keys (the chain's hashes
cover exactly those bytes); only the page translates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from authority.accounts.models import Role
from authority.l10n import moments

# The keys the services write (authority/*/services); an unknown key is shown as it is stored.
_LABELS: dict[str, Promise] = {
    "activates_at": pgettext_lazy("audit detail", "in force from"),
    "batches": pgettext_lazy("audit detail", "batches"),
    "changes": pgettext_lazy("audit detail", "changes"),
    "checkpoints_superseded": pgettext_lazy("audit detail", "checkpoints superseded"),
    "country_batches": pgettext_lazy("audit detail", "batches per country"),
    "error": pgettext_lazy("audit detail", "error"),
    "expires_at": pgettext_lazy("audit detail", "expires"),
    "fields": pgettext_lazy("audit detail", "fields"),
    "invitation": pgettext_lazy("audit detail", "invitation"),
    "key": pgettext_lazy("audit detail", "key"),
    "key_id": pgettext_lazy("audit detail", "key id"),
    "keys_received": pgettext_lazy("audit detail", "keys received"),
    "keys_shared": pgettext_lazy("audit detail", "keys shared"),
    "kind": pgettext_lazy("audit detail", "kind"),
    "limit": pgettext_lazy("audit detail", "limit"),
    "locked_until": pgettext_lazy("audit detail", "locked until"),
    "lost_through": pgettext_lazy("audit detail", "lost up to entry"),
    "newest_checkpoint": pgettext_lazy("audit detail", "newest checkpoint"),
    "note": pgettext_lazy("audit detail", "reason"),
    "outcome": pgettext_lazy("audit detail", "outcome"),
    "password": pgettext_lazy("audit detail", "password"),
    "platform": pgettext_lazy("audit detail", "platform"),
    "previous_key": pgettext_lazy("audit detail", "previous key"),
    "reason": pgettext_lazy("audit detail", "reason"),
    "received_keys": pgettext_lazy("audit detail", "keys received"),
    "refused": pgettext_lazy("audit detail", "refused"),
    "remaining": pgettext_lazy("audit detail", "remaining"),
    "restored_length": pgettext_lazy("audit detail", "entries after the restore"),
    "role": pgettext_lazy("audit detail", "role"),
    "run": pgettext_lazy("audit detail", "run"),
    "runs": pgettext_lazy("audit detail", "runs"),
    "scope": pgettext_lazy("audit detail", "scope"),
    "signing_keys": pgettext_lazy("audit detail", "signing keys"),
    "step": pgettext_lazy("audit detail", "step"),
    "trigger": pgettext_lazy("audit detail", "trigger"),
    "version": pgettext_lazy("audit detail", "version"),
    "via": pgettext_lazy("audit detail", "via"),
}


@dataclass(frozen=True)
class ShownDetail:
    key: str  # as stored, for anyone matching the page against the trail's JSON
    label: str
    value: str


def shown_details(details: dict[str, Any]) -> list[ShownDetail]:
    return [
        ShownDetail(key=key, label=str(_LABELS.get(key, key)), value=_value(key, value))
        for key, value in details.items()
    ]


def _value(key: str, value: Any) -> str:
    moment = moments.parse_timestamp(value)
    if moment is not None:
        return moments.short_datetime(moment, seconds=True, zone=True)
    if key == "role" and value in Role.values:
        return str(Role(value).label)
    if isinstance(value, list):
        return ", ".join(_value(key, item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{name}: {_value(name, item)}" for name, item in value.items())
    return str(value)
