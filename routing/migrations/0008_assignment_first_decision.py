"""`first_decision` on Assignment (the lead's earliest decision: what reports' rule coverage classes),
set at write time by the router and the manual writers. The column comes in true (no row written);
the fill clears it on the rows that follow an earlier decision of their lead (~7 %), in lead id ranges
of 50,000, each its own short transaction (the migration is not atomic: no lock is held
across the table). Its partial index is built CONCURRENTLY on Postgres, after the fill. Measured on 1 M
leads: see README, Benchmarks."""

from django.db import migrations, models

INDEX = models.Index(
    fields=["created_at"],
    include=["lead", "rep", "outcome", "decided_by", "rule", "strategy", "rule_name"],
    condition=models.Q(first_decision=True),
    name="assignment_first_decision_idx",
)


def fill(apps, schema_editor):
    from routing.services.facts import assignment_first_decision_fill

    assignment_first_decision_fill()
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) routing_assignment")


def add_index(apps, schema_editor):
    model = apps.get_model("routing", "Assignment")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("routing", "0007_assignment_reassigned_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="first_decision",
            # True for the rows that exist: Postgres adds a constant default without writing a row; the fill
            # then clears it on the few that follow an earlier decision of their lead.
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="assignment",
            name="first_decision",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_index, migrations.RunPython.noop)],
            state_operations=[migrations.AddIndex(model_name="assignment", index=INDEX)],
        ),
    ]
