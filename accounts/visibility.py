"""The one rule of visibility, written once.

A record is visible to a user when
- the user is the director (or a superuser): everything;
- one of the record's *owner fields* points at the user or anyone below them
  in the reporting tree;
- for support staff: an owner field points at anyone in their region;
- the user holds a django-guardian grant on it (direct foreign-key permission
  model, e.g. ``ClientUserObjectPermission``);
- or, for a model that *follows a parent*, its parent is visible.

A model declares its rule as a class attribute and gets ``visible_to(user)``
from ``VisibleQuerySet``::

    class Client(models.Model):
        visibility = OwnedBy("owner", "account_manager")
        objects = ClientQuerySet.as_manager()   # a VisibleQuerySet

    class Contact(models.Model):
        visibility = FollowsParent("client")

Every page, API view, export, search and dashboard starts from
``Model.objects.visible_to(user)``; one record is fetched with
``get_for_user``, which answers 404 for "missing" and "not yours" alike and
says what the user may do with it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.http import Http404

if TYPE_CHECKING:
    from accounts.models import User

M = TypeVar("M", bound=models.Model)


# --------------------------------------------------------------------------- scope
@dataclass(frozen=True)
class Scope:
    """The user ids whose records a user sees by position in the organisation.

    ``line_ids`` are the user and everyone below them; ``region_ids`` (support
    staff only) everyone in their region. Built with one query and cached on
    the user object for the request, so later ``visible_to`` calls cost nothing.
    """

    everything: bool
    line_ids: frozenset[int]
    region_ids: frozenset[int] = frozenset()

    @property
    def user_ids(self) -> frozenset[int]:
        return self.line_ids | self.region_ids

    @classmethod
    def for_user(cls, user: User) -> Scope:
        from accounts.models import Role, User

        if not user.is_authenticated or not user.is_active:
            return cls(everything=False, line_ids=frozenset())
        if user.sees_everything:
            return cls(everything=True, line_ids=frozenset())
        condition = Q(path__startswith=user.path)
        region = user.region if user.role == Role.SUPPORT else None
        if region is not None:
            condition |= Q(team__path__startswith=region.path)
        line: set[int] = {user.pk}
        in_region: set[int] = set()
        for pk, path in User.objects.filter(condition).values_list("pk", "path"):
            (line if path.startswith(user.path) else in_region).add(pk)
        return cls(everything=False, line_ids=frozenset(line), region_ids=frozenset(in_region))


# ---------------------------------------------------------------------------- rules
class Relation(enum.IntEnum):
    """How a user comes to see a record, strongest first."""

    COMPANY = 1  # the director
    LINE = 2  # they or someone below them owns it
    REGION = 3  # support staff maintaining their region's records
    GRANT = 4  # an explicit guardian grant
    NONE = 9


class Rule:
    def filter(self, qs: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
        raise NotImplementedError

    def relation(self, obj: models.Model, user: User) -> tuple[Relation, set[str]]:
        """How ``user`` relates to ``obj`` and which object permissions grants add."""
        raise NotImplementedError

    def owner_fields(self) -> tuple[str, ...]:
        return ()


class OwnedBy(Rule):
    """A record is someone's through these user foreign keys.

    A field may be a path through a foreign key (``"client__account_manager"``:
    a deal is also its client's account manager's). Only direct fields are
    handed over when someone leaves; a path follows its parent record.
    """

    def __init__(self, *fields: str, grants: bool = True) -> None:
        if not fields:
            raise ValueError("OwnedBy needs at least one user field.")
        self.fields = fields
        self.grants = grants

    def owner_fields(self) -> tuple[str, ...]:
        return tuple(field for field in self.fields if "__" not in field)

    def _owner_ids(self, obj: models.Model) -> set[int]:
        ids: set[int] = set()
        for field in self.fields:
            *hops, last = field.split("__")
            target: Any = obj
            for hop in hops:
                target = getattr(target, hop, None)
                if target is None:
                    break
            else:
                value = getattr(target, f"{last}_id", None)
                if value is not None:
                    ids.add(value)
        return ids

    def filter(self, qs: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
        scope = user.visibility_scope
        if scope.everything:
            return qs
        condition = Q()
        ids = sorted(scope.user_ids)
        for field in self.fields:
            if "__" in field:
                # A path through a parent ("client__account_manager"): read the
                # parents' ids first so that PostgreSQL can use the foreign-key
                # index in a BitmapOr; a join or a sub-select inside the OR would
                # make it scan every row of a large table.
                path, last = field.rsplit("__", 1)
                parent_ids = _parent_ids(user, _related_model(qs.model, path), last, ids)
                if parent_ids:
                    condition |= Q(**{f"{path}__in": parent_ids})
            else:
                condition |= Q(**{f"{field}__in": ids})
        grant_model = grant_model_for(qs.model) if self.grants else None
        if grant_model is not None:
            granted = list(
                grant_model.objects.filter(user=user)
                .values_list("content_object_id", flat=True)
                .distinct()
            )
            if granted:
                condition |= Q(pk__in=granted)
        return qs.filter(condition)

    def relation(self, obj: models.Model, user: User) -> tuple[Relation, set[str]]:
        scope = user.visibility_scope
        if scope.everything:
            return Relation.COMPANY, set()
        owners = self._owner_ids(obj)
        grant_perms = granted_codenames(obj, user) if self.grants else set()
        if owners & scope.line_ids:
            return Relation.LINE, grant_perms
        if owners & scope.region_ids:
            return Relation.REGION, grant_perms
        if grant_perms:
            return Relation.GRANT, grant_perms
        return Relation.NONE, set()


class FollowsParent(Rule):
    """A record is visible exactly when its parent (a foreign key) is."""

    def __init__(self, field: str) -> None:
        self.field = field

    def parent_model(self, model: type[models.Model]) -> type[models.Model]:
        return model._meta.get_field(self.field).related_model  # type: ignore[return-value]

    def filter(self, qs: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
        if user.visibility_scope.everything:
            return qs
        parent = self.parent_model(qs.model)
        return qs.filter(**{f"{self.field}__in": parent._default_manager.visible_to(user)})

    def relation(self, obj: models.Model, user: User) -> tuple[Relation, set[str]]:
        parent = getattr(obj, self.field)
        return rule_for(type(parent)).relation(parent, user)


def _parent_ids(
    user: User, parent: type[models.Model], field: str, user_ids: list[int]
) -> list[int]:
    """Ids of the ``parent`` records whose ``field`` is someone in the user's scope.

    Cached on the user object for the request, like the scope itself: a deal
    list, its contracts and projects all ask for "clients whose account manager
    I see" and get one query between them.
    """
    cache = user.__dict__.setdefault("_visibility_parent_ids", {})
    key = (parent._meta.label, field)
    if key not in cache:
        cache[key] = list(
            parent._base_manager.filter(**{f"{field}__in": user_ids})
            .order_by()
            .values_list("pk", flat=True)
        )
    return cache[key]


def _related_model(model: type[models.Model], path: str) -> type[models.Model]:
    for hop in path.split("__"):
        model = model._meta.get_field(hop).related_model  # type: ignore[assignment]
    return model


def rule_for(model: type[models.Model]) -> Rule:
    rule = getattr(model, "visibility", None)
    if not isinstance(rule, Rule):
        raise TypeError(f"{model.__name__} declares no visibility rule.")
    return rule


# --------------------------------------------------------------------- queryset
class VisibleQuerySet(models.QuerySet[M], Generic[M]):
    """Base queryset for every owned model."""

    def visible_to(self, user: User) -> VisibleQuerySet[M]:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return rule_for(self.model).filter(self, user)  # type: ignore[return-value]


def owned_models() -> Iterator[tuple[type[models.Model], tuple[str, ...]]]:
    """Every installed model that is someone's, with its owner fields."""
    for model in apps.get_models():
        rule = getattr(model, "visibility", None)
        if isinstance(rule, Rule) and rule.owner_fields():
            yield model, rule.owner_fields()


# ------------------------------------------------------------------------ grants
@cache
def grant_model_for(model: type[models.Model]) -> type[models.Model] | None:
    """The direct guardian permission model of ``model`` (``XUserObjectPermission``)."""
    from guardian.models import UserObjectPermissionBase

    for rel in model._meta.related_objects:
        related = rel.related_model
        if (
            isinstance(related, type)
            and issubclass(related, UserObjectPermissionBase)
            and rel.field.name == "content_object"
        ):
            return related
    return None


def granted_codenames(obj: models.Model, user: User) -> set[str]:
    grant_model = grant_model_for(type(obj))
    if grant_model is None:
        return set()
    return set(
        grant_model.objects.filter(user=user, content_object=obj).values_list(
            "permission__codename", flat=True
        )
    )


# ------------------------------------------------------------------------ access
@dataclass(frozen=True)
class Access(Generic[M]):
    """One record and what the user may do with it."""

    obj: M
    relation: Relation
    can_change: bool
    can_delete: bool

    @property
    def read_only(self) -> bool:
        return not self.can_change


def access_for(user: User, obj: M) -> Access[M]:
    """What ``user`` may do with ``obj``, which they are known to see.

    Role permissions (one group per role) say what a role may do at all; the
    relation to the record narrows it: a view-only grant gives no writes.
    """
    model = type(obj)
    opts = model._meta
    relation, grant_perms = rule_for(model).relation(obj, user)
    may_change = user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
    may_delete = user.has_perm(f"{opts.app_label}.delete_{opts.model_name}")
    if relation == Relation.GRANT:
        parent_opts = _grant_opts(model)
        may_change = may_change and f"change_{parent_opts.model_name}" in grant_perms
        may_delete = False
    elif relation == Relation.NONE:
        may_change = may_delete = False
    return Access(obj=obj, relation=relation, can_change=may_change, can_delete=may_delete)


def _grant_opts(model: type[models.Model]) -> Any:
    rule = rule_for(model)
    if isinstance(rule, FollowsParent):
        return _grant_opts(rule.parent_model(model))
    return model._meta


def get_for_user(
    user: User,
    queryset: models.QuerySet[M] | type[M],
    *,
    for_change: bool = False,
    **lookup: Any,
) -> Access[M]:
    """Fetch one record through ``visible_to`` and say what the user may do.

    404 when it does not exist or is not the user's to see — the two are not
    told apart, so ids cannot be probed. ``for_change`` locks the row
    (``SELECT ... FOR UPDATE``) for a write inside a transaction.
    """
    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    qs = qs.visible_to(user)  # type: ignore[attr-defined]
    if for_change:
        qs = qs.select_for_update(of=("self",))
    try:
        obj = qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {qs.model._meta.verbose_name} matches the given query.") from None
    return access_for(user, obj)


def filter_visible(user: User, objs: Iterable[M]) -> list[M]:
    """Keep the objects of an already-fetched list that ``user`` may see."""
    objs = list(objs)
    if not objs:
        return []
    model = type(objs[0])
    visible = set(
        model._default_manager.visible_to(user)  # type: ignore[attr-defined]
        .filter(pk__in=[o.pk for o in objs])
        .values_list("pk", flat=True)
    )
    return [o for o in objs if o.pk in visible]
