"""Backup codes made before 0004 were django-otp static tokens, in clear: keep each one usable,
as a keyed hash in the new device, and delete the clear copies."""

from django.db import migrations
from django.utils.crypto import salted_hmac

SALT = "authority.accounts.backup-code"  # as models.backup_code_digests


def hash_clear_codes(apps, schema_editor):
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    BackupCodeDevice = apps.get_model("accounts", "BackupCodeDevice")
    BackupCode = apps.get_model("accounts", "BackupCode")
    for old in StaticDevice.objects.all():
        new = BackupCodeDevice.objects.create(user_id=old.user_id, name=old.name, confirmed=True)
        BackupCode.objects.bulk_create(
            BackupCode(
                device=new,
                digest=salted_hmac(
                    SALT, "".join(token.split()).lower(), algorithm="sha256"
                ).hexdigest(),
            )
            for token in old.token_set.values_list("token", flat=True)
        )
        old.delete()  # its tokens go with it (CASCADE)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_hashed_backup_codes"),
        ("otp_static", "0003_add_timestamps"),
    ]

    operations = [migrations.RunPython(hash_clear_codes, migrations.RunPython.noop)]
