"""Put back the data the migrations create, for tests on a flushed database.

A transactional test (threads, the browser's live server) ends with a flush that
empties every table, the stages and the role groups the data migrations made
included. Tests that run after one — in whatever order xdist hands them out —
call ``restore_defaults()`` first. It is idempotent and uses the live registry
without touching it (``apply_role_defaults`` is for migrations only).
"""

from __future__ import annotations

import importlib

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.roles import ROLE_PERMISSIONS, group_name
from pipeline.models import Stage

_STAGES = importlib.import_module("pipeline.migrations.0002_stages_and_role_permissions").STAGES


def restore_defaults() -> None:
    for code, name, name_zh, order, probability, kind in _STAGES:
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
