"""Put back the reference data the data migrations create (roles, stages, surveys).

A transactional test (threads, a real worker, the browser's live server) ends
with a flush that empties every table — the role groups and the pipeline
stages included. The root ``conftest.py`` calls ``restore()`` before the next
test that uses the database. It is idempotent and reads the same lists the
migrations use; it works on the live app registry (``apply_role_defaults`` is
for migrations' historical registry only).
"""

from __future__ import annotations

import importlib

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.roles import ROLE_PERMISSIONS, group_name


def _migration(app: str, name: str):
    return importlib.import_module(f"{app}.migrations.{name}")


def reference_data_present() -> bool:
    """A cheap check (one query) that a flush has not emptied the reference data."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pipeline_stage)"
            " AND EXISTS (SELECT 1 FROM clients_surveytemplate)"
            " AND EXISTS (SELECT 1 FROM auth_group_permissions gp"
            "   JOIN auth_group g ON g.id = gp.group_id WHERE g.name = 'rep')"
        )
        return bool(cursor.fetchone()[0])


def restore() -> None:
    from clients.models import SurveyQuestion, SurveyTemplate
    from pipeline.models import Stage

    for code, name, name_zh, order, probability, kind in _migration(
        "pipeline", "0002_stages_and_role_permissions"
    ).STAGES:
        Stage.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "order": order,
                "probability": probability,
                "kind": kind,
            },
        )
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        condition = Q(pk__in=[])
        for perm in perms:
            app, codename = perm.split(".", 1)
            condition |= Q(content_type__app_label=app, codename=codename)
        group.permissions.set(Permission.objects.filter(condition))
    for code, kind, name, name_zh, intro, intro_zh, questions in _migration(
        "clients", "0006_builtin_surveys_and_permissions"
    ).TEMPLATES:
        template, created = SurveyTemplate.objects.get_or_create(
            code=code,
            defaults={
                "kind": kind,
                "name": name,
                "name_zh": name_zh,
                "intro": intro,
                "intro_zh": intro_zh,
                "is_builtin": True,
            },
        )
        if created:
            SurveyQuestion.objects.bulk_create(
                SurveyQuestion(
                    template=template,
                    position=position,
                    kind=qkind,
                    text=text,
                    text_zh=text_zh,
                    choices=choices,
                    required=required,
                )
                for position, (qkind, text, text_zh, choices, required) in enumerate(questions)
            )


def ensure() -> None:
    """Restore the reference data if a flush emptied it (for fixtures wider than a test)."""
    if not reference_data_present():
        restore()
