"""Role permissions without group bookkeeping.

A user holds the permissions of the group named after their role, plus any
groups they are put in by hand. Promoting someone is then one field change:
there is no membership to keep in step with the role.

Every page asks what the user may do (the navigation shows only what they
may open), which costs two queries; the answer changes rarely, so it is kept
in the cache for a few minutes under a key naming the user, their role and
superuser flag and a *generation* that any change to permissions, groups or
memberships (and every ``migrate``) replaces — a promotion or a new grant
takes effect on the next request.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

#: How long a user's permission set may be reused (seconds).
CACHE_SECONDS = 300
GENERATION_KEY = "accounts:perm-generation"


def _generation() -> str:
    return cache.get_or_set(GENERATION_KEY, lambda: uuid4().hex, None)


def forget_permissions(**_kwargs: Any) -> None:
    """Start a new generation: every cached permission set is read again."""
    cache.delete(GENERATION_KEY)


class RoleBackend(ModelBackend):
    def _get_group_permissions(self, user_obj: Any) -> QuerySet[Permission]:
        return Permission.objects.filter(
            Q(group__user=user_obj) | Q(group__name=user_obj.role)
        ).distinct()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            key = (
                f"accounts:perms:{_generation()}:{user_obj.pk}:{user_obj.role}:"
                f"{int(user_obj.is_superuser)}"
            )
            perms = cache.get(key)
            if perms is None:
                perms = super().get_all_permissions(user_obj)
                cache.set(key, perms, CACHE_SECONDS)
            user_obj._perm_cache = perms
        return user_obj._perm_cache


def connect_signals() -> None:
    """Called from ``AccountsConfig.ready``: what changes a permission set."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    for through in (
        user_model.user_permissions.through,
        user_model.groups.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(forget_permissions, sender=through, weak=False)
    for model in (Group, Permission):
        post_save.connect(forget_permissions, sender=model, weak=False)
        post_delete.connect(forget_permissions, sender=model, weak=False)
    post_migrate.connect(forget_permissions, weak=False)
