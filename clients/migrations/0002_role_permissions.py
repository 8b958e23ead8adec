"""Default permissions of each role on client records (accounts.roles)."""

from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import apply_role_defaults

    apply_role_defaults(apps, "clients")


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0001_initial"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
