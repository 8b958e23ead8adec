"""Stage changes carry their deal's owner.

Stage conversion counts a team's moves into each stage in a period. With the
owner only on the deal, PostgreSQL read every move of the month (45,000 at
100,000 deals) and joined the team's 18,000 deals to keep a region's 7,500:
35–45 ms of a manager's dashboard. With the owner on the move, the
(owner, changed_at) index hands over the team's moves alone. ``Deal.save``
keeps the copy equal when a deal changes hands; the fill copies today's owners.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def copy_owners(apps, schema_editor):
    DealStageChange = apps.get_model("pipeline", "DealStageChange")
    Deal = apps.get_model("pipeline", "Deal")
    DealStageChange.objects.update(
        owner_id=models.Subquery(
            Deal.objects.filter(pk=models.OuterRef("deal_id")).values("owner_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0011_covering_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="dealstagechange",
            name="owner",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(copy_owners, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="dealstagechange",
            name="owner",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="dealstagechange",
            index=models.Index(
                fields=["owner", "changed_at"],
                include=("deal", "to_stage", "moved_on_at"),
                name="stagechange_owner_idx",
            ),
        ),
    ]
