"""Report rollups (reports/rollups.py): each rep's additive counts per day, the log of changed assignment
times that keeps them exact, and the time zone they are kept in.

On Postgres, a trigger on the assignments logs the span of times of every statement's changed `assigned`
rows (inserted, deleted, or with a report fact changed), so every writer keeps the rollups honest without
knowing of them. The whole history is logged as changed here: the reports read it raw, as before, until the
first fold (a job every minute) has rolled it up. Elsewhere (SQLite) there is no trigger and the reports
never read the rollups."""

from django.conf import settings
from django.db import migrations, models

# The report facts of an assignment: a change to any of them can change a rollup.
FACTS = [
    "created_at",
    "rep_id",
    "outcome",
    "ended_at",
    "first_decision",
    "first_contacted_at",
    "converted_at",
    "misrouted_at",
    "reassigned_at",
]

TRIGGER_SQL = f"""
CREATE FUNCTION reports_rollup_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
        AND ({", ".join(f"o.{c}" for c in FACTS)}) IS DISTINCT FROM ({", ".join(f"n.{c}" for c in FACTS)})
      HAVING COUNT(*) > 0;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER reports_rollup_insert AFTER INSERT ON routing_assignment
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_rollup_change();
CREATE TRIGGER reports_rollup_update AFTER UPDATE ON routing_assignment
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_rollup_change();
CREATE TRIGGER reports_rollup_delete AFTER DELETE ON routing_assignment
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_rollup_change();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS reports_rollup_insert ON routing_assignment;
DROP TRIGGER IF EXISTS reports_rollup_update ON routing_assignment;
DROP TRIGGER IF EXISTS reports_rollup_delete ON routing_assignment;
DROP FUNCTION IF EXISTS reports_rollup_change();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(TRIGGER_SQL)
    # The history so far is out of date until the first fold.
    schema_editor.execute(
        "INSERT INTO reports_rollupchange (created_at_from, created_at_to)"
        " SELECT MIN(created_at), MAX(created_at) FROM routing_assignment HAVING COUNT(*) > 0"
    )
    apps.get_model("reports", "RollupState").objects.create(time_zone=settings.TIME_ZONE)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_managers_group"),
        ("routing", "0013_assignment_repeats_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at_from", models.DateTimeField()),
                ("created_at_to", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="RollupState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("time_zone", models.CharField(max_length=64)),
            ],
        ),
        migrations.CreateModel(
            name="RepDayFigures",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("rep_id", models.BigIntegerField()),
                ("assignments", models.PositiveIntegerField()),
                ("single_assigned", models.PositiveIntegerField()),
                ("single_contacted", models.PositiveIntegerField()),
                ("single_converted", models.PositiveIntegerField()),
                ("misrouted", models.PositiveIntegerField()),
                ("reassigned", models.PositiveIntegerField()),
                ("within_5_min", models.PositiveIntegerField()),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("day", "rep_id"), name="rep_day_figures_unique")],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
