"""Authenticator (TOTP) seeds at rest: sealed again under a new key-encryption key.

The seeds are kept like the signing keys (models.TOTPDevice, authority.envelope): after
SIGNING_KEY_ENCRYPTION_KEY changes, with the old value in SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS,
`manage.py reencrypt_signing_keys` calls this (with the signing keys' re-encryption) so
that the fallback can go.
"""

from __future__ import annotations

import logging

from django.db import transaction

from authority.accounts.models import TOTP_SEEDS, TOTPDevice, totp_seed_binding
from authority.envelope import EnvelopeError

logger = logging.getLogger(__name__)


def reencrypt_totp_seeds() -> int:
    """Seal every seed that a fallback opened under the current key; how many moved.

    All or none, in one transaction: a seed that no configured key opens stops it with
    EnvelopeError (naming SIGNING_KEY_ENCRYPTION_KEY), nothing changed.
    """
    moved = 0
    with transaction.atomic():
        for device in TOTPDevice.objects.select_for_update().order_by("pk"):
            binding = totp_seed_binding(device_id=device.pk, user_id=device.user_id)
            try:
                opened = TOTP_SEEDS.open(bytes(device.encrypted_key), bound_to=binding)
            except EnvelopeError as error:
                raise EnvelopeError(
                    f"The authenticator seed of device {device.pk} {error}"
                ) from None
            if opened.under_current_key:
                continue
            sealed = TOTP_SEEDS.seal(opened.plaintext, bound_to=binding)
            TOTPDevice.objects.filter(pk=device.pk).update(encrypted_key=sealed)
            moved += 1
    if moved:
        logger.info("%d authenticator seed(s) sealed under the current key-encryption key", moved)
    return moved
