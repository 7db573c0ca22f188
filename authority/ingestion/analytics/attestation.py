"""Device attestation of operational-info reports: a pluggable verifier chosen by a setting.

settings.OPERATIONAL_INFO_VERIFIER is the dotted path of a subclass of AttestationVerifier.
The default, DevelopmentVerifier, accepts every well-formed report: right for development
and tests, never for production. A production verifier checks the platform's proof that the
report comes from the genuine app on a genuine device:

- Google (Play Integrity): decode `signed_attestation` with Google's server API or the app's
  keys, then require `requestDetails.nonce == expected_nonce(report)`, the app's package name
  and certificate digest, `appRecognitionVerdict == PLAY_RECOGNIZED`,
  `MEETS_DEVICE_INTEGRITY`, and a recent timestamp.
- Apple (DeviceCheck): call `query_two_bits` with `device_token`; refuse when the first bit says
  the device already reported this month, else `update_two_bits` to set it.

Either way `verify` returns a Verdict whose `device_proof` names the attestation (the salt,
the device token): the service keeps an HMAC of it in the cache until the end of the month, so
the same proof counts once. Verifiers may call the network (with a timeout); the service calls
them outside any database transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from authority.dashboard import metrics


@dataclass(frozen=True)
class OperationalInfoReport:
    """What one app reports, already validated; `attestation` holds the platform's fields."""

    platform: str  # metrics.ANDROID or metrics.IOS
    province: str
    region_id: int
    exposure_permission: bool
    bluetooth_active: bool
    notification_permission: bool
    exposure_notification: bool
    last_risky_exposure_on: date | None
    build: int | None = None
    attestation: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """Each device counts once a month per kind (Immuni's two kinds of report)."""
        return "with-exposure" if self.exposure_notification else "without-exposure"


@dataclass(frozen=True)
class Verdict:
    genuine: bool
    device_proof: str = ""


def expected_nonce(report: OperationalInfoReport) -> str:
    """The nonce an Android app puts in its attestation request: SHA-256 (hex) of the report's
    fields and its salt, so an attestation cannot be replayed with other values."""
    fields = [
        report.province,
        str(int(report.exposure_permission)),
        str(int(report.bluetooth_active)),
        str(int(report.notification_permission)),
        str(int(report.exposure_notification)),
        report.last_risky_exposure_on.isoformat() if report.last_risky_exposure_on else "",
        report.attestation.get("salt", ""),
    ]
    return hashlib.sha256("|".join(fields).encode()).hexdigest()


class AttestationVerifier:
    """Decides whether a report comes from the genuine app on a genuine device."""

    def verify(self, report: OperationalInfoReport) -> Verdict:
        raise NotImplementedError


class DevelopmentVerifier(AttestationVerifier):
    """Accepts every well-formed report (the serializers checked the form): development only."""

    def verify(self, report: OperationalInfoReport) -> Verdict:
        if report.platform == metrics.ANDROID:
            return Verdict(genuine=True, device_proof=report.attestation["salt"])
        return Verdict(genuine=True, device_proof=report.attestation["device_token"])


@cache
def _verifier_for(path: str) -> AttestationVerifier:
    verifier_class = import_string(path)
    if not (isinstance(verifier_class, type) and issubclass(verifier_class, AttestationVerifier)):
        raise TypeError(f"{path} is not a subclass of AttestationVerifier")
    return verifier_class()


def verifier() -> AttestationVerifier:
    return _verifier_for(settings.OPERATIONAL_INFO_VERIFIER)
