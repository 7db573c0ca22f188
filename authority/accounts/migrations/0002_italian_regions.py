"""Load Italy's regions and provinces; administrators edit them afterwards."""

from django.db import migrations

from authority.accounts import italy


def load_regions(apps, schema_editor):
    italy.load_regions(apps.get_model("accounts", "Region"), apps.get_model("accounts", "Province"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
