"""Pool fairness's month rollup keeps a running total (RuleRepMonthFigures.running): a run of whole months is read
as two rows per rule and rep. The history is logged as changed, so the next fold rebuilds the totals
(reports/rollups.py); until then the reports read it from the assignments."""

from django.db import migrations, models


def log_the_history(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "INSERT INTO reports_rollupchange (kind, time_from, time_to)"
        " SELECT 'assigned', MIN(created_at), MAX(created_at) FROM routing_assignment WHERE outcome = 'assigned'"
        " HAVING COUNT(*) > 0"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0009_rollups_months"),
    ]

    operations = [
        migrations.AddField(
            model_name="rulerepmonthfigures",
            name="running",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(log_the_history, migrations.RunPython.noop),
    ]
