"""Indexes in the lists' order (newest quotes and projects, latest contracts).

At 100,000 deals the quote, project and contract lists joined every row to its
deal, client and owner to sort them and keep 25 (100–180 ms); walking these
indexes backwards they stop after the page (about 20 ms).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0008_kpis_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["start_date", "id"], name="contract_start_idx"),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["created_at", "id"], name="project_created_idx"),
        ),
        migrations.AddIndex(
            model_name="quote",
            index=models.Index(fields=["created_at", "id"], name="quote_created_idx"),
        ),
    ]
