"""Materialized paths for the two trees of the organisation.

A node's ``path`` is its ancestors' primary keys and its own, each followed by
a dot (``"1.4.9."``), so "this node and everything below it" is one indexed
``LIKE '1.4.%'`` query and a node's ancestors are read off its own path with no
query at all. Paths are derived data: they are rebuilt by ``save()`` whenever
a node's parent changes, in the same transaction, for the whole subtree in one
UPDATE.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

SEPARATOR = "."


def path_pks(path: str) -> list[int]:
    """The primary keys on a path, root first."""
    return [int(part) for part in path.split(SEPARATOR) if part]


class TreeNode(models.Model):
    """Abstract base for a node whose parent is the field named ``parent_field``."""

    parent_field: ClassVar[str] = "parent"

    path = models.CharField(max_length=255, editable=False, default="", db_index=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        touches_parent = update_fields is None or {
            self.parent_field,
            f"{self.parent_field}_id",
        } & set(update_fields)
        if not touches_parent or (self.pk and self._parent_unchanged()):
            super().save(*args, **kwargs)
            return
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            self._sync_path()
            self._loaded_parent_id = getattr(self, f"{self.parent_field}_id")

    # --- reading -----------------------------------------------------------------
    @property
    def ancestor_pks(self) -> list[int]:
        """Ancestors' primary keys, root first, excluding this node."""
        return path_pks(self.path)[:-1]

    @property
    def depth(self) -> int:
        return max(len(path_pks(self.path)) - 1, 0)

    def subtree(self) -> models.QuerySet[Any]:
        """This node and every node below it (one indexed query)."""
        return type(self)._default_manager.filter(path__startswith=self.path)

    def is_at_or_below(self, other: TreeNode) -> bool:
        return bool(other.path) and self.path.startswith(other.path)

    # --- writing -----------------------------------------------------------------
    def clean(self) -> None:
        super().clean()
        parent_id = getattr(self, f"{self.parent_field}_id")
        if self.pk and parent_id:
            if parent_id == self.pk:
                raise ValidationError({self.parent_field: _("A node cannot be its own parent.")})
            parent_path = self._parent_path(parent_id)
            if self.path and parent_path.startswith(self.path):
                raise ValidationError(
                    {self.parent_field: _("This would make a loop: the new parent is below it.")}
                )

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> TreeNode:
        instance = super().from_db(db, field_names, values)
        attname = f"{cls.parent_field}_id"
        if attname in field_names:
            instance._loaded_parent_id = values[list(field_names).index(attname)]
        return instance

    def _parent_unchanged(self) -> bool:
        loaded = getattr(self, "_loaded_parent_id", models.NOT_PROVIDED)
        return (
            bool(self.path)
            and loaded is not models.NOT_PROVIDED
            and loaded == getattr(self, f"{self.parent_field}_id")
        )

    def _parent_path(self, parent_id: int, *, lock: bool = False) -> str:
        # Read the parent's path from the database: the parent instance held in
        # memory may predate a move of its own.
        qs = type(self)._default_manager.filter(pk=parent_id)
        if lock:
            qs = qs.select_for_update()
        return qs.values_list("path", flat=True).get()

    def _sync_path(self) -> None:
        manager = type(self)._default_manager
        stored = manager.select_for_update().filter(pk=self.pk).values_list("path", flat=True).get()
        parent_id = getattr(self, f"{self.parent_field}_id")
        prefix = self._parent_path(parent_id, lock=True) if parent_id else ""
        if stored and prefix.startswith(stored):
            raise ValidationError(
                {self.parent_field: _("This would make a loop: the new parent is below it.")}
            )
        expected = f"{prefix}{self.pk}{SEPARATOR}"
        if stored != expected:
            if stored:
                # Re-root the whole subtree in one statement.
                manager.filter(path__startswith=stored).update(
                    path=Concat(
                        models.Value(expected),
                        Substr("path", len(stored) + 1),
                        output_field=models.CharField(),
                    )
                )
            else:
                manager.filter(pk=self.pk).update(path=expected)
        self.path = expected
