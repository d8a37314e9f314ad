"""The report's period index (assignment_facts_idx) gains `first_decision`, which the per-rep query now
reads to tell the leads that may have several assignments in the period (reports/columns.py,
distinct_leads). Built CONCURRENTLY on Postgres under a new name, then the old one dropped: no row is
written and writes go on meanwhile."""

from django.db import migrations, models

FACTS = [
    *["id", "lead", "rep", "ended_at", "rule", "decided_by"],
    *["first_contacted_at", "converted_at", "misrouted_at", "reassigned_at"],
]
OLD_INDEX = models.Index(
    fields=["created_at"], include=FACTS, condition=models.Q(outcome="assigned"), name="assignment_facts_idx"
)
NEW_INDEX = models.Index(
    fields=["created_at"],
    include=[*FACTS, "first_decision"],
    condition=models.Q(outcome="assigned"),
    name="assignment_report_facts_idx",
)


def swap_index(apps, schema_editor):
    model = apps.get_model("routing", "Assignment")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, NEW_INDEX, **concurrently)
    schema_editor.remove_index(model, OLD_INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("routing", "0008_assignment_first_decision"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(swap_index, migrations.RunPython.noop)],
            state_operations=[
                migrations.RemoveIndex(model_name="assignment", name="assignment_facts_idx"),
                migrations.AddIndex(model_name="assignment", index=NEW_INDEX),
            ],
        ),
    ]
