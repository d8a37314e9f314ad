"""A narrow partial index of the contacted assignments, by rep and time, with their first contact: the per-rep
table's speed-to-lead medians read every contacted assignment of the period from it alone (reports/selectors.py),
instead of from the wide index of every report fact. Built CONCURRENTLY on Postgres: routing goes on meanwhile."""

from django.db import migrations, models

INDEX = models.Index(
    fields=["rep", "created_at"],
    include=["first_contacted_at"],
    condition=models.Q(outcome="assigned", first_contacted_at__isnull=False),
    name="assignment_contacted_idx",
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
        ("routing", "0013_assignment_repeats_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_index, remove_index)],
            state_operations=[migrations.AddIndex(model_name="assignment", index=INDEX)],
        ),
    ]
