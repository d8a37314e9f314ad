"""For migrations: an index built CONCURRENTLY on Postgres (intake and routing go on while it builds), plainly
elsewhere. Earlier migrations carry their own copies of these lines; they stay as they ran."""

from django.db import migrations


def index_added_concurrently(app_label: str, model_name: str, index) -> migrations.SeparateDatabaseAndState:
    """The migration operation that adds `index` to `model_name`; the migration must say `atomic = False`."""

    def concurrently(schema_editor) -> dict:
        return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}

    def add_index(apps, schema_editor):
        schema_editor.add_index(apps.get_model(app_label, model_name), index, **concurrently(schema_editor))

    def remove_index(apps, schema_editor):
        schema_editor.remove_index(apps.get_model(app_label, model_name), index, **concurrently(schema_editor))

    return migrations.SeparateDatabaseAndState(
        database_operations=[migrations.RunPython(add_index, remove_index)],
        state_operations=[migrations.AddIndex(model_name=model_name.lower(), index=index)],
    )
