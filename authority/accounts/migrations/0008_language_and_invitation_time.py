"""The language of a person's e-mails, and when their newest invitation link was made.

People still without a password get the time of their newest invitation from the audit
trail (its creation, or a renewal), so the People pages can tell a pending link from an
expired one for them too.
"""

from django.db import migrations, models
from django.db.models import Q


def invitation_times_from_the_audit_trail(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    AuditEntry = apps.get_model("audit", "AuditEntry")
    for user in User.objects.filter(password__startswith="!"):  # no usable password
        newest = (
            AuditEntry.objects.filter(target=user.username)
            .filter(Q(action="user_created") | Q(action="user_changed", details__invitation="renewed"))
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if newest is not None:
            User.objects.filter(pk=user.pk).update(invited_at=newest)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_seal_existing_totp_seeds'),
        ('audit', '0003_signing_keys_reencrypted'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='invited_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='invited at'),
        ),
        migrations.AddField(
            model_name='user',
            name='language',
            field=models.CharField(choices=[('en', 'English'), ('it', 'Italiano')], default='it', max_length=8, verbose_name='language of e-mails'),
        ),
        migrations.RunPython(invitation_times_from_the_audit_trail, migrations.RunPython.noop),
    ]
