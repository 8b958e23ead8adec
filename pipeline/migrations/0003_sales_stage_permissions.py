"""Stages are company-wide data: only the director adds, changes or deletes them.

The foundation gave regional managers the director's pipeline permissions,
stage editing included; this takes the stage writes back from the manager group.
"""

from django.db import migrations

STAGE_WRITES = ["add_stage", "change_stage", "delete_stage"]


def forwards(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group = group_model.objects.filter(name="manager").first()
    if group is None:
        return
    group.permissions.remove(
        *permission_model.objects.filter(
            content_type__app_label="pipeline", codename__in=STAGE_WRITES
        )
    )


def backwards(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group = group_model.objects.filter(name="manager").first()
    if group is not None:
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label="pipeline", codename__in=STAGE_WRITES
            )
        )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0002_stages_and_role_permissions")]

    operations = [migrations.RunPython(forwards, backwards)]
