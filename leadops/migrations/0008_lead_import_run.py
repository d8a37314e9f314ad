"""Leads remember the file import that created them (the admin's import result links to them), and an
import can wait as a preview. On a big lead table: the column is nullable (no rewrite) and the index is
partial, over imported leads only (none yet), so both take a moment."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leadops", "0007_remove_leadevent_lead_event_type_known_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="import_run",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="leads",
                to="leadops.importrun",
                verbose_name="file import",
            ),
        ),
        migrations.AlterField(
            model_name="importrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("preview", "Previewed, not imported"),
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                ],
                default="queued",
                max_length=8,
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("import_run__isnull", False)), fields=["import_run"], name="lead_import_run_idx"
            ),
        ),
    ]
