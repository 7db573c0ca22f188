"""Sessions moved to authority.accounts.sessions (SESSION_ENGINE): rows found by a hash of the
cookie's value, their content sealed with it. The rows kept the old way hold live cookie values
and readable content (invitation tokens): delete them all. Everyone logged in logs in again
(docs/upgrading.md).

Not reversible in effect: migrating back leaves the table empty, which Django's own store
reads as "nobody is logged in".
"""

from django.db import migrations


def forget_every_session(apps, schema_editor):
    apps.get_model("sessions", "Session").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_language_and_invitation_time"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(forget_every_session, migrations.RunPython.noop)]
