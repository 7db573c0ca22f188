"""Load Italy's regions and provinces; administrators edit them afterwards."""

from django.db import migrations

from authority.accounts.italy import ITALY


def load_regions(apps, schema_editor):
    Region = apps.get_model("accounts", "Region")
    Province = apps.get_model("accounts", "Province")
    for code, name, provinces in ITALY:
        region, _ = Region.objects.get_or_create(code=code, defaults={"name": name})
        for province_code, province_name in provinces:
            Province.objects.get_or_create(code=province_code, defaults={"name": province_name, "region": region})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
