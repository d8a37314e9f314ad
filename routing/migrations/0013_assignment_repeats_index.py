"""A partial index of the assignments whose lead may count twice in a period (ended, or not the lead's first
decision): the reports count every other assignment from their rollups (reports/rollups.py) and read these
raw, about an eighth of a year's assignments on bench/reports.py's data. Built CONCURRENTLY on Postgres:
routing goes on meanwhile."""

from django.db import migrations, models

INDEX = models.Index(
    fields=["created_at"],
    include=["rep", "lead", "ended_at", "first_decision", "first_contacted_at", "converted_at"],
    condition=models.Q(outcome="assigned") & (models.Q(ended_at__isnull=False) | models.Q(first_decision=False)),
    name="assignment_repeats_idx",
)


def add_index(apps, schema_editor):
    model = apps.get_model("routing", "Assignment")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, INDEX, **concurrently)


def remove_index(apps, schema_editor):
    model = apps.get_model("routing", "Assignment")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.remove_index(model, INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("routing", "0012_assignment_lead_created_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_index, remove_index)],
            state_operations=[migrations.AddIndex(model_name="assignment", index=INDEX)],
        ),
    ]
