"""The rollups keep the SLA card's counts too (RuleDueDayFigures): the settled SLAs of each due day per rule. The
trigger already logs their facts as the "due" kind (0005), so it does not change. The SLAs due so far are logged
as changed, so the card reads them from the assignments until the next fold (reports/rollups.py)."""

from django.db import migrations, models


def log_the_due_history(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "INSERT INTO reports_rollupchange (kind, time_from, time_to)"
        " SELECT 'due', MIN(sla_due_at), MAX(sla_due_at) FROM routing_assignment WHERE sla_due_at IS NOT NULL"
        " HAVING COUNT(*) > 0"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0006_rollups_coverage"),
    ]

    operations = [
        migrations.CreateModel(
            name="RuleDueDayFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(db_index=True)),
                ("rule_id", models.BigIntegerField(null=True)),
                ("rule_name", models.CharField(blank=True, max_length=120)),
                ("due", models.PositiveIntegerField()),
                ("breaches", models.PositiveIntegerField()),
                ("pooled", models.PositiveIntegerField()),
            ],
        ),
        migrations.AlterField(
            model_name="rollupchange",
            name="kind",
            field=models.CharField(
                choices=[
                    ("assigned", "assignment times (RepDayFigures)"),
                    ("due", "SLA due times (RepDueDayFigures, RuleDueDayFigures)"),
                    ("lead", "lead times of first decisions (CoverageDayFigures)"),
                ],
                default="assigned",
                max_length=8,
            ),
        ),
        migrations.RunPython(log_the_due_history, migrations.RunPython.noop),
    ]
