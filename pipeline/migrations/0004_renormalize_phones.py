"""Recompute leads' normalised phones after normalize_phone learnt landlines with +86."""

from django.db import migrations


def renormalize(apps, schema_editor):
    from salesorg.lib.normalize import normalize_phone

    for name in ("Lead",):
        model = apps.get_model("pipeline", name)
        batch = []
        for obj in model.objects.exclude(phone="").only("pk", "phone", "phone_normalized").iterator(
            chunk_size=2000
        ):
            value = normalize_phone(obj.phone)
            if value != obj.phone_normalized:
                obj.phone_normalized = value
                batch.append(obj)
            if len(batch) >= 2000:
                model.objects.bulk_update(batch, ["phone_normalized"])
                batch = []
        model.objects.bulk_update(batch, ["phone_normalized"])


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0003_sales_stage_permissions")]

    operations = [migrations.RunPython(renormalize, migrations.RunPython.noop)]
