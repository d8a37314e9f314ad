"""Report facts on Assignment (first contact by the rep, converted, misrouted), filled in for the
rows that exist, in batches of 50,000 assignments, each its own short transaction (the migration is
not atomic, so no lock is held across the table). Measured on 1 M leads: see README, Benchmarks."""

from django.db import migrations, models

OLD_INDEX = models.Index(
    fields=["created_at"],
    include=["id", "lead", "rep", "ended_at", "rule", "decided_by"],
    condition=models.Q(outcome="assigned"),
    name="assignment_assigned_period_idx",
)
NEW_INDEX = models.Index(
    fields=["created_at"],
    include=[
        *["id", "lead", "rep", "ended_at", "rule", "decided_by"],
        *["first_contacted_at", "converted_at", "misrouted_at"],
    ],
    condition=models.Q(outcome="assigned"),
    name="assignment_facts_period_idx",
)


def fill(apps, schema_editor):
    """The facts from the events in short batches, then (Postgres) VACUUM: the batches left a dead row
    version per filled row, and the report's index-only scans need the visibility map."""
    from routing.services.facts import assignment_facts_fill

    assignment_facts_fill()
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) routing_assignment")


def swap_index(apps, schema_editor):
    """The report's period index gains the facts; built CONCURRENTLY on Postgres (writes go on meanwhile)."""
    model = apps.get_model("routing", "Assignment")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, NEW_INDEX, **concurrently)
    schema_editor.remove_index(model, OLD_INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leadops", "0005_import_run"),
        ("routing", "0003_assignment_end_reason_rep_away"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="converted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="assignment",
            name="first_contacted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="assignment",
            name="misrouted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(swap_index, migrations.RunPython.noop)],
            state_operations=[
                migrations.RemoveIndex(model_name="assignment", name="assignment_assigned_period_idx"),
                migrations.AddIndex(model_name="assignment", index=NEW_INDEX),
            ],
        ),
    ]
