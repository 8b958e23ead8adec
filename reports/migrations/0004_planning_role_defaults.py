from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import apply_role_defaults

    apply_role_defaults(apps, "reports")


class Migration(migrations.Migration):
    """The role groups' default permissions on the planning and weekly-report models."""

    dependencies = [("reports", "0003_planning_models")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
