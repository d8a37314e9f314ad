"""`reassigned_at` on Assignment (the lead went to another rep within 7 days: the assignment did not
stick), kept at write time by routing.services.assignments.assignments_mark_reassigned and filled in
here for the rows that exist, in id ranges of 50,000, each its own short transaction (the migration is
not atomic, so no lock is held across the table). The report's period index gains the column, built
CONCURRENTLY on Postgres. Measured on 1 M leads: see README, Benchmarks."""

from django.db import migrations, models

OLD_INDEX = models.Index(
    fields=["created_at"],
    include=[
        *["id", "lead", "rep", "ended_at", "rule", "decided_by"],
        *["first_contacted_at", "converted_at", "misrouted_at"],
    ],
    condition=models.Q(outcome="assigned"),
    name="assignment_facts_period_idx",
)
NEW_INDEX = models.Index(
    fields=["created_at"],
    include=[
        *["id", "lead", "rep", "ended_at", "rule", "decided_by"],
        *["first_contacted_at", "converted_at", "misrouted_at", "reassigned_at"],
    ],
    condition=models.Q(outcome="assigned"),
    name="assignment_facts_idx",
)


def fill(apps, schema_editor):
    """Only ended assignments can have been reassigned (~7 % of them on the benchmark)."""
    from routing.services.facts import assignment_reassigned_fill

    assignment_reassigned_fill()
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) routing_assignment")


def swap_index(apps, schema_editor):
    model = apps.get_model("routing", "Assignment")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, NEW_INDEX, **concurrently)
    schema_editor.remove_index(model, OLD_INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("routing", "0006_assignment_sla_breached_at_assignment_sla_due_at_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="reassigned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(swap_index, migrations.RunPython.noop)],
            state_operations=[
                migrations.RemoveIndex(model_name="assignment", name="assignment_facts_period_idx"),
                migrations.AddIndex(model_name="assignment", index=NEW_INDEX),
            ],
        ),
    ]
