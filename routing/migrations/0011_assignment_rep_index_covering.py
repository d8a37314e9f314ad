"""The index on (rep, created_at) gains the report facts (reports/selectors.py, assignment_facts_ctes):
the per-rep table reads a period rep by rep from it, already in rep order, so Postgres no longer sorts
the period's assignments before grouping them (year 1.7–2.2 s → 1.1–1.3 s on bench/reports.py's year).
Built CONCURRENTLY on Postgres under a new name, then the old one dropped: no row is written and writes
go on meanwhile."""

from django.db import migrations, models

OLD_INDEX = models.Index(fields=["rep", "created_at"], name="routing_ass_rep_id_de5edc_idx")
NEW_INDEX = models.Index(
    fields=["rep", "created_at"],
    include=[
        *["outcome", "id", "lead", "ended_at", "first_decision"],
        *["first_contacted_at", "converted_at", "misrouted_at", "reassigned_at"],
    ],
    name="assignment_rep_facts_idx",
)


def swap_index(apps, schema_editor):
    model = apps.get_model("routing", "Assignment")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, NEW_INDEX, **concurrently)
    schema_editor.remove_index(model, OLD_INDEX, **concurrently)


def swap_back(apps, schema_editor):
    model = apps.get_model("routing", "Assignment")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, OLD_INDEX, **concurrently)
    schema_editor.remove_index(model, NEW_INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("routing", "0010_assignment_sla_due_index_covering"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(swap_index, swap_back)],
            state_operations=[
                migrations.RemoveIndex(model_name="assignment", name="routing_ass_rep_id_de5edc_idx"),
                migrations.AddIndex(model_name="assignment", index=NEW_INDEX),
            ],
        ),
    ]
