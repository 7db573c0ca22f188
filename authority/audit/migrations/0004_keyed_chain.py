"""The audit chain becomes keyed (docs/audit-trail.md): entries get a position and the id of
the AUDIT_HMAC_KEY that made their link. Existing entries keep their SHA-256 links and no
position; the head learns how many there are, so the first keyed entry takes the next position.
No entry is rewritten."""

from django.db import migrations, models


def count_existing_entries(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditChainHead.objects.filter(pk=1).update(length=AuditEntry.objects.count(), key_id="")


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_signing_keys_reencrypted'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditchainhead',
            name='key_id',
            field=models.CharField(blank=True, default='', max_length=16),
        ),
        migrations.AddField(
            model_name='auditchainhead',
            name='length',
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='key_id',
            field=models.CharField(blank=True, db_default='', default='', max_length=16),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='position',
            field=models.PositiveBigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('login', 'Logged in'), ('login_failed', 'Login failed'), ('login_locked_out', 'Locked out after repeated failures'), ('logout', 'Logged out'), ('second_factor_failed', 'Second factor rejected'), ('second_factor_enrolled', 'Second factor enrolled'), ('second_factor_reset', 'Second factor reset'), ('backup_codes_generated', 'Backup codes generated'), ('backup_code_used', 'Backup code used'), ('user_created', 'User created'), ('user_changed', 'User changed'), ('user_deactivated', 'User deactivated'), ('user_reactivated', 'User reactivated'), ('login_unlocked', 'Login lockout lifted'), ('password_set', 'Password set'), ('otp_issued', 'Code issued'), ('otp_authorized', 'Code authorized'), ('otp_revoked', 'Code revoked'), ('otp_quota_reached', 'Code quota reached'), ('api_key_created', 'API key created'), ('api_key_revoked', 'API key revoked'), ('publication_started', 'Publication started'), ('publication_finished', 'Publication finished'), ('signing_key_created', 'Signing key created'), ('signing_key_rotated', 'Signing key rotated'), ('signing_key_retired', 'Signing key retired'), ('signing_keys_reencrypted', 'Signing keys re-encrypted'), ('region_changed', 'Region changed'), ('audit_key_changed', 'Audit trail key changed'), ('audit_restore_acknowledged', 'Restore of the trail acknowledged')], db_index=True, max_length=32, verbose_name='action'),
        ),
        migrations.RunPython(count_existing_entries, migrations.RunPython.noop),
    ]
