"""The rollups keep each rep's settled SLAs per due day too (RepDueDayFigures): the log says which kind of
time changed (the assignment's, or the SLA due time), and the trigger logs both. The SLAs due so far are
logged as changed, so the reports read them from the assignments until the next fold (reports/rollups.py)."""

from django.db import migrations, models

# The report facts of an assignment, by the rollups they feed: a change to one of them logs its time.
ASSIGNED_FACTS = [
    *["created_at", "rep_id", "outcome", "ended_at", "first_decision"],
    *["first_contacted_at", "converted_at", "misrouted_at", "reassigned_at"],
]
DUE_FACTS = ["sla_due_at", "sla_met_at", "sla_breached_at", "outcome", "rep_id", "ended_at", "rule_id", "rule_name"]


def _changed(facts: list[str]) -> str:
    return f"({', '.join(f'o.{c}' for c in facts)}) IS DISTINCT FROM ({', '.join(f'n.{c}' for c in facts)})"


def _spans(rows: str) -> str:
    """SELECT the two kinds' spans of the inserted or deleted `rows`."""
    return (
        f"SELECT 'assigned', MIN(created_at), MAX(created_at) FROM {rows} WHERE outcome = 'assigned' HAVING COUNT(*) > 0"
        f" UNION ALL SELECT 'due', MIN(sla_due_at), MAX(sla_due_at) FROM {rows} WHERE sla_due_at IS NOT NULL"
        " HAVING COUNT(*) > 0"
    )


FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION reports_rollup_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO reports_rollupchange (kind, time_from, time_to) {_spans("new_rows")};
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO reports_rollupchange (kind, time_from, time_to) {_spans("old_rows")};
  ELSE
    INSERT INTO reports_rollupchange (kind, time_from, time_to)
      SELECT 'assigned', MIN(LEAST(o.created_at, n.created_at)), MAX(GREATEST(o.created_at, n.created_at))
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE (o.outcome = 'assigned' OR n.outcome = 'assigned') AND {_changed(ASSIGNED_FACTS)}
      HAVING COUNT(*) > 0
      UNION ALL
      SELECT 'due', MIN(LEAST(o.sla_due_at, n.sla_due_at)), MAX(GREATEST(o.sla_due_at, n.sla_due_at))
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE (o.sla_due_at IS NOT NULL OR n.sla_due_at IS NOT NULL) AND {_changed(DUE_FACTS)}
      HAVING COUNT(*) > 0;
  END IF;
  RETURN NULL;
END $$;
"""

# The function as migration 0003 made it (with the log's columns renamed back by then).
PREVIOUS_SQL = """
CREATE OR REPLACE FUNCTION reports_rollup_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO reports_rollupchange (created_at_from, created_at_to)
      SELECT MIN(created_at), MAX(created_at) FROM new_rows WHERE outcome = 'assigned' HAVING COUNT(*) > 0;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO reports_rollupchange (created_at_from, created_at_to)
      SELECT MIN(created_at), MAX(created_at) FROM old_rows WHERE outcome = 'assigned' HAVING COUNT(*) > 0;
  ELSE
    INSERT INTO reports_rollupchange (created_at_from, created_at_to)
      SELECT MIN(LEAST(o.created_at, n.created_at)), MAX(GREATEST(o.created_at, n.created_at))
      FROM old_rows o JOIN new_rows n ON n.id = o.id
      WHERE (o.outcome = 'assigned' OR n.outcome = 'assigned')
        AND (o.created_at, o.rep_id, o.outcome, o.ended_at, o.first_decision, o.first_contacted_at, o.converted_at,
             o.misrouted_at, o.reassigned_at) IS DISTINCT FROM (n.created_at, n.rep_id, n.outcome, n.ended_at,
             n.first_decision, n.first_contacted_at, n.converted_at, n.misrouted_at, n.reassigned_at)
      HAVING COUNT(*) > 0;
  END IF;
  RETURN NULL;
END $$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION_SQL)
    schema_editor.execute(
        "INSERT INTO reports_rollupchange (kind, time_from, time_to)"
        " SELECT 'due', MIN(sla_due_at), MAX(sla_due_at) FROM routing_assignment WHERE sla_due_at IS NOT NULL"
        " HAVING COUNT(*) > 0"
    )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DELETE FROM reports_rollupchange WHERE kind <> 'assigned'")


def previous_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_rollup_speed_buckets"),
    ]

    operations = [
        # Backwards, the old function comes back once the columns have their old names again.
        migrations.RunPython(migrations.RunPython.noop, previous_function),
        migrations.RenameField(model_name="rollupchange", old_name="created_at_from", new_name="time_from"),
        migrations.RenameField(model_name="rollupchange", old_name="created_at_to", new_name="time_to"),
        migrations.AddField(
            model_name="rollupchange",
            name="kind",
            field=models.CharField(
                choices=[("assigned", "assignment times (RepDayFigures)"), ("due", "SLA due times (RepDueDayFigures)")],
                default="assigned",
                max_length=8,
            ),
        ),
        migrations.CreateModel(
            name="RepDueDayFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("rep_id", models.BigIntegerField()),
                ("settled", models.PositiveIntegerField()),
                ("met", models.PositiveIntegerField()),
                ("breached", models.PositiveIntegerField()),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("day", "rep_id"), name="rep_due_day_figures_unique")],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
