"""The rollups keep the speed-to-lead histogram too (the per-rep table reads its counts from them). The rows
kept so far have none: the whole history is logged as changed, so the reports read it from the assignments
until the next fold has rebuilt it (reports/rollups.py)."""

from django.db import migrations, models


def history_changed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "INSERT INTO reports_rollupchange (created_at_from, created_at_to)"
            " SELECT MIN(created_at), MAX(created_at) FROM routing_assignment HAVING COUNT(*) > 0"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="repdayfigures",
            name="bucket_0",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="repdayfigures",
            name="bucket_1",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="repdayfigures",
            name="bucket_2",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="repdayfigures",
            name="bucket_3",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="repdayfigures",
            name="bucket_4",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="repdayfigures",
            name="bucket_5",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(history_changed, migrations.RunPython.noop),
    ]
