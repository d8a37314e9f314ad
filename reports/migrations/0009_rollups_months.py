"""Month rollups of each rep's counts and settled SLAs (RepMonthFigures, RepDueMonthFigures): the sums of their day
rows, so that a long period reads a row per rep and month, not per rep and day. The history of both kinds is
logged as changed, so the reports read it from the assignments until the next fold builds the months
(reports/rollups.py)."""

from django.db import migrations, models


def log_the_history(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "INSERT INTO reports_rollupchange (kind, time_from, time_to)"
        " SELECT 'assigned', MIN(created_at), MAX(created_at) FROM routing_assignment WHERE outcome = 'assigned'"
        " HAVING COUNT(*) > 0"
        " UNION ALL SELECT 'due', MIN(sla_due_at), MAX(sla_due_at) FROM routing_assignment"
        " WHERE sla_due_at IS NOT NULL HAVING COUNT(*) > 0"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0008_rollups_pool_fairness"),
    ]

    operations = [
        migrations.CreateModel(
            name="RepDueMonthFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rep_id", models.BigIntegerField()),
                ("settled", models.PositiveIntegerField()),
                ("met", models.PositiveIntegerField()),
                ("breached", models.PositiveIntegerField()),
                ("month", models.DateField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("month", "rep_id"), name="rep_due_month_figures_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="RepMonthFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rep_id", models.BigIntegerField()),
                ("assignments", models.PositiveIntegerField()),
                ("single_assigned", models.PositiveIntegerField()),
                ("single_contacted", models.PositiveIntegerField()),
                ("single_converted", models.PositiveIntegerField()),
                ("misrouted", models.PositiveIntegerField()),
                ("reassigned", models.PositiveIntegerField()),
                ("within_5_min", models.PositiveIntegerField()),
                ("bucket_0", models.PositiveIntegerField(default=0)),
                ("bucket_1", models.PositiveIntegerField(default=0)),
                ("bucket_2", models.PositiveIntegerField(default=0)),
                ("bucket_3", models.PositiveIntegerField(default=0)),
                ("bucket_4", models.PositiveIntegerField(default=0)),
                ("bucket_5", models.PositiveIntegerField(default=0)),
                ("month", models.DateField()),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("month", "rep_id"), name="rep_month_figures_unique")],
            },
        ),
        migrations.RunPython(log_the_history, migrations.RunPython.noop),
    ]
