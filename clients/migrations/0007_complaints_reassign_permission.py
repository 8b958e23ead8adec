"""Complaints (care-complaints): the permission to give a complaint to another owner,
granted to the director and the managers (accounts.roles)."""

from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import apply_role_defaults

    apply_role_defaults(apps, "clients")


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0006_builtin_surveys_and_permissions"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="complaint",
            options={
                "ordering": ["-received_at", "pk"],
                "permissions": [("reassign_complaint", "Can give a complaint to another owner")],
                "verbose_name": "complaint",
                "verbose_name_plural": "complaints",
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
