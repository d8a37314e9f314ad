"""The rollups keep pool fairness's counts too (RuleRepMonthFigures): the engine's assignments per rule and rep in
each month. The trigger's "assigned" kind now follows the two facts they add, who decided and by which rule. The
assignments so far are logged as changed, so the reports read them from the assignments until the next fold
(reports/rollups.py)."""

from importlib import import_module

from django.db import migrations, models

ASSIGNED_FACTS = [
    *["created_at", "rep_id", "outcome", "ended_at", "first_decision"],
    *["first_contacted_at", "converted_at", "misrouted_at", "reassigned_at"],
    *["decided_by", "rule_id"],
]
DUE_FACTS = ["sla_due_at", "sla_met_at", "sla_breached_at", "outcome", "rep_id", "ended_at", "rule_id", "rule_name"]
LEAD_FACTS = ["first_decision", "lead_created_at", "outcome", "decided_by", "rule_id", "strategy", "rule_name"]

# (kind, the time it logs, which rows it follows, their facts whose change it logs)
KINDS = [
    ("assigned", "created_at", "{r}.outcome = 'assigned'", ASSIGNED_FACTS),
    ("due", "sla_due_at", "{r}.sla_due_at IS NOT NULL", DUE_FACTS),
    ("lead", "lead_created_at", "{r}.first_decision", LEAD_FACTS),
]


def _written(rows: str) -> str:
    """SELECT each kind's span of the inserted or deleted `rows`."""
    return " UNION ALL ".join(
        f"SELECT '{kind}', MIN(r.{time}), MAX(r.{time}) FROM {rows} r WHERE {follows.format(r='r')} HAVING COUNT(*) > 0"
        for kind, time, follows, _ in KINDS
    )


def _changed() -> str:
    """SELECT each kind's span of the updated rows whose facts of that kind changed."""
    parts = []
    for kind, time, follows, facts in KINDS:
        old, new = ", ".join(f"o.{c}" for c in facts), ", ".join(f"n.{c}" for c in facts)
        parts.append(
            f"SELECT '{kind}', MIN(LEAST(o.{time}, n.{time})), MAX(GREATEST(o.{time}, n.{time}))"
            " FROM old_rows o JOIN new_rows n ON n.id = o.id"
            f" WHERE ({follows.format(r='o')} OR {follows.format(r='n')}) AND ({old}) IS DISTINCT FROM ({new})"
            " HAVING COUNT(*) > 0"
        )
    return " UNION ALL ".join(parts)


FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION reports_rollup_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO reports_rollupchange (kind, time_from, time_to) {_written("new_rows")};
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO reports_rollupchange (kind, time_from, time_to) {_written("old_rows")};
  ELSE
    INSERT INTO reports_rollupchange (kind, time_from, time_to) {_changed()};
  END IF;
  RETURN NULL;
END $$;
"""


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(import_module("reports.migrations.0006_rollups_coverage").FUNCTION_SQL)


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION_SQL)
    schema_editor.execute(
        "INSERT INTO reports_rollupchange (kind, time_from, time_to)"
        " SELECT 'assigned', MIN(created_at), MAX(created_at) FROM routing_assignment WHERE outcome = 'assigned'"
        " HAVING COUNT(*) > 0"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_rollups_sla_card"),
    ]

    operations = [
        migrations.AlterField(
            model_name="rollupchange",
            name="kind",
            field=models.CharField(
                choices=[
                    ("assigned", "assignment times (RepDayFigures, RuleRepMonthFigures)"),
                    ("due", "SLA due times (RepDueDayFigures, RuleDueDayFigures)"),
                    ("lead", "lead times of first decisions (CoverageDayFigures)"),
                ],
                default="assigned",
                max_length=8,
            ),
        ),
        migrations.CreateModel(
            name="RuleRepMonthFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("rule_id", models.BigIntegerField()),
                ("rep_id", models.BigIntegerField()),
                ("assignments", models.PositiveIntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("month", "rule_id", "rep_id"), name="rule_rep_month_figures_unique")
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
