"""Report facts on Assignment (first contact by the rep, converted, misrouted), filled in for the
rows that exist, in batches of 50,000 assignments, each its own short transaction (the migration is
not atomic, so no lock is held across the table). Measured on 1 M leads: see README, Benchmarks."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from routing.services.facts import assignment_facts_fill

    assignment_facts_fill()
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("ANALYZE routing_assignment")


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
    ]
