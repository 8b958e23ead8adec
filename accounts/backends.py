"""Role permissions without group bookkeeping.

A user holds the permissions of the group named after their role, plus any
groups they are put in by hand. Promoting someone is then one field change:
there is no membership to keep in step with the role.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet


class RoleBackend(ModelBackend):
    def _get_group_permissions(self, user_obj: Any) -> QuerySet[Permission]:
        return Permission.objects.filter(
            Q(group__user=user_obj) | Q(group__name=user_obj.role)
        ).distinct()
