"""Trigram indexes for the client search (PostgreSQL only; a no-op elsewhere).

The client list searches names, contact names, phones, e-mails and
registration numbers with ``LIKE '%term%'``, which a B-tree cannot serve. GIN
trigram indexes let PostgreSQL answer it with a bitmap index scan instead of
reading every client and contact. Each index is on exactly the expression
Django generates: ``UPPER(col::text)`` for ``icontains``, the bare column for
``contains`` on the stored normalised values.

Also a B-tree on ``(name, id)``, the list's default order, so its first page
is read in index order instead of sorting every visible client.
"""

from django.db import migrations, models

INDEXES = [
    ("client_name_trgm", "clients_client", "(UPPER(name::text)) gin_trgm_ops"),
    ("client_name_norm_trgm", "clients_client", "name_normalized gin_trgm_ops"),
    ("client_email_trgm", "clients_client", "email gin_trgm_ops"),
    ("client_phone_trgm", "clients_client", "phone_normalized gin_trgm_ops"),
    ("client_regno_trgm", "clients_client", "registration_number gin_trgm_ops"),
    ("contact_name_trgm", "clients_contact", "(UPPER(name::text)) gin_trgm_ops"),
    ("contact_email_trgm", "clients_contact", "email gin_trgm_ops"),
    ("contact_phone_trgm", "clients_contact", "phone_normalized gin_trgm_ops"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_role_permissions")]

    operations = [
        migrations.RunPython(create, drop),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(fields=["name", "id"], name="client_name_id_idx"),
        ),
    ]
