"""Claims move from ExposureKey.batch (a column) to the narrow ClaimedKey table.

ClaimedKey is unmanaged (see its docstring), so its table is created here, per database:
on PostgreSQL a bare heap, which the claim appends to and hash joins read whole; on SQLite,
whose NOT EXISTS would otherwise scan the table once per key, a unique index on the key and
an index on the batch. Existing claims are copied; going back copies them back.
"""

from django.db import migrations, models

TABLE = "keys_claimedkey"


def create_claims_table(apps, schema_editor):
    connection = schema_editor.connection
    key_type = apps.get_model("keys", "ExposureKey")._meta.pk.rel_db_type(connection)
    batch_type = apps.get_model("keys", "Batch")._meta.pk.rel_db_type(connection)
    schema_editor.execute(
        f"CREATE TABLE {TABLE} (key_id {key_type} NOT NULL, batch_id {batch_type} NOT NULL)"
    )
    if connection.vendor != "postgresql":
        schema_editor.execute(f"CREATE UNIQUE INDEX claimed_key_once ON {TABLE} (key_id)")
        schema_editor.execute(f"CREATE INDEX claimed_key_batch ON {TABLE} (batch_id)")
    schema_editor.execute(
        f"INSERT INTO {TABLE} (key_id, batch_id) "
        "SELECT id, batch_id FROM keys_exposurekey WHERE batch_id IS NOT NULL"
    )


def drop_claims_table(apps, schema_editor):
    # The batch_id column is back (the later operations were reversed first): refill it, in
    # one join on PostgreSQL (no index on the claims: a subquery per key would scan them all).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"UPDATE keys_exposurekey SET batch_id = c.batch_id FROM {TABLE} c "
            "WHERE c.key_id = keys_exposurekey.id"
        )
    else:
        schema_editor.execute(
            "UPDATE keys_exposurekey SET batch_id = "
            f"(SELECT c.batch_id FROM {TABLE} c WHERE c.key_id = keys_exposurekey.id)"
        )
    schema_editor.execute(f"DROP TABLE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("keys", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClaimedKey",
            fields=[
                (
                    "key",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="claim",
                        serialize=False,
                        to="keys.exposurekey",
                    ),
                ),
            ],
            options={
                "verbose_name": "claimed key",
                "verbose_name_plural": "claimed keys",
                "db_table": TABLE,
                "managed": False,
            },
        ),
        migrations.RunPython(create_claims_table, drop_claims_table),
        migrations.RemoveIndex(model_name="exposurekey", name="key_awaiting_publication"),
        migrations.RemoveIndex(model_name="exposurekey", name="key_in_batch_order"),
        migrations.RemoveField(model_name="exposurekey", name="batch"),
        migrations.AddField(
            model_name="exposurekey",
            name="batch",
            field=models.ManyToManyField(
                blank=True,
                related_name="keys",
                through="keys.ClaimedKey",
                to="keys.batch",
                verbose_name="batch",
            ),
        ),
    ]
