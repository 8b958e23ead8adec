"""Helpers for tests that run in real transactions (browser and concurrency tests)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.roles import ROLE_PERMISSIONS, group_name


def ensure_role_groups() -> None:
    """Recreate the role groups the data migrations made.

    A transactional test empties the database when it ends; Django's
    post-migrate signal brings back the permissions but not the groups holding
    them, so a later transactional test would find every role powerless.
    """
    for role, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name(role))
        condition = Q(pk__in=[])
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            condition |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(condition))
