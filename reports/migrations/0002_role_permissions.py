from django.db import migrations


def grant(apps, schema_editor):
    from accounts.roles import apply_role_defaults

    apply_role_defaults(apps, "reports")


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_jobrun"), ("accounts", "0002_role_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
