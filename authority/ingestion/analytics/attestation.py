"""Device attestation of the apps' operational info: a pluggable verifier chosen by a setting.

settings.OPERATIONAL_INFO_VERIFIER is the dotted path of a subclass of AttestationVerifier.
The default, DevelopmentVerifier, accepts every well-formed report: right for development
and tests, never for production. A production verifier checks the platform's proof that a
report comes from the genuine app on a genuine device, as Immuni's analytics service did:

- Android (`verify_android`): the report carries a random `salt` and the platform's signed
  attestation (SafetyNet then, Play Integrity now) whose nonce is `expected_nonce(report)`.
  Check the signature and certificate chain (or ask Google's server API), then the nonce, the
  app's package name and certificate digest, the device-integrity verdict and a timestamp
  within minutes.
- iOS (`verify_apple_device`): the app first asks for its random analytics token to be
  authorized (POST /v1/analytics/apple/token) with a DeviceCheck token; check it with Apple's
  `query_two_bits` / `update_two_bits`, refusing a device whose bits say it already
  authorized a token this month. This runs in a Celery task (tasks/analytics.py): Immuni's
  protocol waits seconds between its calls to Apple.

Verifiers may call the network (with a timeout); the services call them outside any
database transaction.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from dataclasses import dataclass
from datetime import date
from functools import cache

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.utils.module_loading import import_string

from authority.ingestion.analytics import metrics


@dataclass(frozen=True)
class OperationalInfoReport:
    """What one app reports, already validated; Android's attestation fields are empty on iOS."""

    platform: str  # metrics.ANDROID or metrics.IOS
    province: str
    region_id: int
    exposure_permission: bool
    bluetooth_active: bool
    notification_permission: bool
    exposure_notification: bool
    # As sent: the day of the last risky exposure, or any day (the app sends today's) when
    # exposure_notification is 0. The Android nonce covers it either way.
    last_risky_exposure_on: date
    build: int | None = None
    salt: str = ""
    signed_attestation: str = ""

    @property
    def kind(self) -> str:
        """Each device counts once a month per kind (Immuni's two kinds of report)."""
        return "with-exposure" if self.exposure_notification else "without-exposure"


def expected_nonce(report: OperationalInfoReport) -> str:
    """The nonce the Android app puts in its attestation request: base64 of the SHA-256 of
    the report's fields and its salt, concatenated as the app does, so that an attestation
    cannot be replayed with other values."""
    fields = (
        report.province,
        str(int(report.exposure_permission)),
        str(int(report.bluetooth_active)),
        str(int(report.notification_permission)),
        str(int(report.exposure_notification)),
        report.last_risky_exposure_on.isoformat(),
        report.salt,
    )
    return b64encode(hashlib.sha256("".join(fields).encode()).digest()).decode()


class AttestationVerifier:
    """Decides whether a report, or an iOS device, is the genuine app on a genuine device."""

    def verify_android(self, report: OperationalInfoReport) -> bool:
        raise NotImplementedError

    def verify_apple_device(self, device_token: str) -> bool:
        raise NotImplementedError


class DevelopmentVerifier(AttestationVerifier):
    """Accepts every well-formed report (the serializers checked the form): development only."""

    def verify_android(self, report: OperationalInfoReport) -> bool:
        return report.platform == metrics.ANDROID

    def verify_apple_device(self, device_token: str) -> bool:
        return True


@cache
def _verifier_for(path: str) -> AttestationVerifier:
    verifier_class = import_string(path)
    if not (isinstance(verifier_class, type) and issubclass(verifier_class, AttestationVerifier)):
        raise TypeError(f"{path} is not a subclass of AttestationVerifier")
    return verifier_class()


def verifier() -> AttestationVerifier:
    return _verifier_for(settings.OPERATIONAL_INFO_VERIFIER)


def check_verifier_setting(**kwargs: object) -> list[CheckMessage]:
    """System check: OPERATIONAL_INFO_VERIFIER names a verifier (at start-up, not at the
    first report)."""
    try:
        verifier()
    except (ImportError, TypeError) as error:
        return [
            Error(
                f"OPERATIONAL_INFO_VERIFIER={settings.OPERATIONAL_INFO_VERIFIER!r}: {error}",
                hint="Name a subclass of "
                "authority.ingestion.analytics.attestation.AttestationVerifier.",
                id="ingestion.E001",
            )
        ]
    return []
