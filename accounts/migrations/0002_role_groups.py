"""One group per role, holding the role's default permissions (accounts.roles)."""

from django.db import migrations


def create_role_groups(apps, schema_editor):
    from accounts.roles import apply_role_defaults

    apply_role_defaults(apps, "accounts")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
