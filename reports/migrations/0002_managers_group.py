"""The Managers group, holding reports.view_reports (PRODUCT.md "Pages")."""

from django.db import migrations


def create_managers_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after migrate; make sure this one exists now.
    content_type, _ = ContentType.objects.get_or_create(app_label="reports", model="reportaccess")
    permission, _ = Permission.objects.get_or_create(
        codename="view_reports",
        content_type=content_type,
        defaults={"name": "Can view manager reports"},
    )
    group, _ = Group.objects.get_or_create(name="Managers")
    group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_managers_group, migrations.RunPython.noop)]
