"""Authenticators enrolled before 0006 are django-otp TOTP devices with their seeds in clear:
move each one into accounts.TOTPDevice, its seed sealed under the key-encryption key
(SIGNING_KEY_ENCRYPTION_KEY), and delete the clear copy. Codes from the apps keep working.

Reversible: migrating back to 0006 opens every seed (with SIGNING_KEY_ENCRYPTION_KEY or one
of its fallbacks) and puts it back, in clear, into django-otp's table.
"""

from django.db import migrations

from authority.envelope import Envelope

# As models.TOTP_SEEDS and models.totp_seed_binding; written out so that this migration keeps
# doing what it did whatever becomes of them.
SEEDS = Envelope(purpose=b"authority.accounts totp-seed encryption")
COPIED = (
    "user_id",
    "name",
    "confirmed",
    "throttling_failure_timestamp",
    "throttling_failure_count",
    "last_used_at",
    "step",
    "t0",
    "digits",
    "tolerance",
    "drift",
    "last_t",
)


def binding(device_id, user_id):
    return f"accounts.totpdevice:{device_id}:user:{user_id}".encode()


def seal_clear_seeds(apps, schema_editor):
    Clear = apps.get_model("otp_totp", "TOTPDevice")
    Sealed = apps.get_model("accounts", "TOTPDevice")
    for clear in Clear.objects.order_by("pk"):
        sealed = Sealed.objects.create(**{name: getattr(clear, name) for name in COPIED})
        Sealed.objects.filter(pk=sealed.pk).update(
            encrypted_key=SEEDS.seal(
                bytes.fromhex(clear.key), bound_to=binding(sealed.pk, clear.user_id)
            ),
            created_at=clear.created_at,  # not the migration's time (auto_now_add)
        )
        clear.delete()


def open_sealed_seeds(apps, schema_editor):
    Clear = apps.get_model("otp_totp", "TOTPDevice")
    Sealed = apps.get_model("accounts", "TOTPDevice")
    for sealed in Sealed.objects.order_by("pk"):
        seed = SEEDS.open(
            bytes(sealed.encrypted_key), bound_to=binding(sealed.pk, sealed.user_id)
        ).plaintext
        clear = Clear.objects.create(
            key=seed.hex(), **{name: getattr(sealed, name) for name in COPIED}
        )
        Clear.objects.filter(pk=clear.pk).update(created_at=sealed.created_at)
        sealed.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_encrypted_totp_devices"),
        ("otp_totp", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(seal_clear_seeds, open_sealed_seeds)]
