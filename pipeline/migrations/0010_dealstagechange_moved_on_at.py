"""When a deal moved on from each stage it entered (``DealStageChange.moved_on_at``).

Stage conversion asked, for every stage change in the period, whether the same
deal later moved to a further stage or was won: a search per row that took
most of a manager's dashboard at 100,000 deals. The answer is now stored on
the row and kept by ``DealStageChange.save``; this fills it for the rows there
are (the same UPDATE as ``DealStageChangeQuerySet.refresh_moved_on``, as it is
today).
"""

from django.db import migrations, models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, When


def fill(apps, schema_editor):
    Stage = apps.get_model("pipeline", "Stage")
    DealStageChange = apps.get_model("pipeline", "DealStageChange")
    entered_open = Stage.objects.filter(pk=OuterRef("to_stage_id"), kind="open")
    entered_order = Stage.objects.filter(pk=OuterRef(OuterRef("to_stage_id"))).values("order")
    moved_on = (
        DealStageChange.objects.filter(deal_id=OuterRef("deal_id"))
        .filter(
            Q(changed_at__gt=OuterRef("changed_at"))
            | Q(changed_at=OuterRef("changed_at"), pk__gt=OuterRef("pk"))
        )
        .filter(
            Q(to_stage__kind="won")
            | Q(to_stage__kind="open", to_stage__order__gt=Subquery(entered_order))
        )
        .order_by("changed_at", "pk")
        .values("changed_at")[:1]
    )
    DealStageChange.objects.update(
        moved_on_at=Case(When(Exists(entered_open), then=Subquery(moved_on)), default=None)
    )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0009_list_order_indexes")]

    operations = [
        migrations.AddField(
            model_name="dealstagechange",
            name="moved_on_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
