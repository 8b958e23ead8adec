"""The RFM segment once called "new" is "recent", as the dashboards name it.

One definition of RFM now serves the nightly scores and the dashboards
(``clients.rfm``); scores stored before are renamed here, and the next night's
run recomputes them all anyway.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    apps.get_model("clients", "Client").objects.filter(rfm_segment="new").update(
        rfm_segment="recent"
    )


def backwards(apps, schema_editor):
    apps.get_model("clients", "Client").objects.filter(rfm_segment="recent").update(
        rfm_segment="new"
    )


class Migration(migrations.Migration):
    dependencies = [("clients", "0007_complaints_reassign_permission")]

    operations = [migrations.RunPython(forwards, backwards)]
