"""The default stages (SPEC section 2 numbers) and each role's pipeline permissions."""

from django.db import migrations

STAGES = [
    # code, name, Chinese name, order, probability, kind
    ("first_contact", "First contact", "初次接触", 10, 10, "open"),
    ("needs_analysis", "Needs analysis", "需求分析", 20, 25, "open"),
    ("proposal", "Proposal / quote", "方案报价", 30, 50, "open"),
    ("negotiation", "Negotiation", "谈判", 40, 75, "open"),
    ("won", "Won", "赢单", 90, 100, "won"),
    ("lost", "Lost", "输单", 99, 0, "lost"),
]


def create(apps, schema_editor):
    from accounts.roles import apply_role_defaults

    stage_model = apps.get_model("pipeline", "Stage")
    for code, name, name_zh, order, probability, kind in STAGES:
        stage_model.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_zh": name_zh, "order": order,
                      "probability": probability, "kind": kind},
        )
    apply_role_defaults(apps, "pipeline")


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0001_initial"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
