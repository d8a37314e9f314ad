"""An index on leads (source, created_at): the report's source suggestions read the sources seen in a
period by a skip scan of it (two probes per source) instead of every lead of the period, and a source's
leads of a period come from it. Built CONCURRENTLY on Postgres: intake goes on meanwhile."""

from django.db import migrations, models

INDEX = models.Index(fields=["source", "created_at"], name="lead_source_created_idx")


def add_index(apps, schema_editor):
    model = apps.get_model("leadops", "Lead")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, INDEX, **concurrently)


def remove_index(apps, schema_editor):
    model = apps.get_model("leadops", "Lead")
    concurrently = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.remove_index(model, INDEX, **concurrently)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leadops", "0008_lead_import_run"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add_index, remove_index)],
            state_operations=[migrations.AddIndex(model_name="lead", index=INDEX)],
        ),
    ]
