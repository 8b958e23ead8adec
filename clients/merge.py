"""Merging duplicate clients into one, losing nothing.

Support staff pick the survivor among duplicates; ``client_merge`` moves every
record that points at a duplicate to the survivor, fills the survivor's empty
fields from the duplicates, records the merge in the survivor's history and
deletes the duplicates — in one transaction.

What "every record" is, is not listed here: ``client_relations()`` walks
``Client``'s reverse relations, so a model a later feature adds with a foreign
key to ``Client`` (complaints, surveys…) is moved without touching this file.
Link tables (the tags, guardian grants) are de-duplicated on their unique key;
any other record that may exist only once per client (a one-to-one, a unique
constraint) stops the merge with a message instead of being dropped.
Historical tables are left as they are: they record the past, including which
client a deal used to belong to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F, Q, UniqueConstraint
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from guardian.models.models import BaseObjectPermission
from simple_history.models import HistoricalChanges
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from accounts.visibility import access_for
from clients.models import Client, ClientUserObjectPermission, Contact

#: Client fields a merge fills on the survivor when they are empty there.
#: Ownership stays the survivor's; derived figures are combined below or
#: recomputed by the nightly jobs (RFM).
FILLED_FIELDS = (
    "registration_number",
    "external_id",
    "industry",
    "segment",
    "region",
    "address",
    "city",
    "province",
    "website",
    "phone",
    "email",
    "account_manager",
    "referred_by",
)


#: Unique rules the merge resolves itself rather than refusing: the survivor
#: keeps one primary contact and the others become ordinary contacts.
HANDLED_CONSTRAINTS = {"contact_one_primary_per_client"}


class MergeConflict(ValidationError):
    """Records that can exist only once per client exist on several of the clients."""


# ---------------------------------------------------------------- relations
@dataclass(frozen=True)
class ClientRelation:
    """A foreign key from some model to ``Client``."""

    model: type[models.Model]
    field: models.ForeignKey

    @property
    def is_link(self) -> bool:
        """A pure link row (an M2M row, a permission grant): identical copies can be dropped."""
        return bool(self.model._meta.auto_created) or issubclass(self.model, BaseObjectPermission)

    @property
    def has_history(self) -> bool:
        return hasattr(self.model._meta, "simple_history_manager_attribute")

    @property
    def label(self) -> str:
        declaring = self.model._meta.auto_created
        if declaring is Client:
            for m2m in Client._meta.many_to_many:
                if m2m.remote_field.through is self.model:
                    return capfirst(str(m2m.verbose_name))
        if declaring:
            return capfirst(str(declaring._meta.verbose_name_plural))
        label = capfirst(str(self.model._meta.verbose_name_plural))
        if self.model is Client or _fks_to_client(self.model) > 1:
            label = f"{label} ({self.field.verbose_name})"
        return label

    def rows_of(self, client_ids: Sequence[int]) -> models.QuerySet[Any]:
        qs = self.model._base_manager.filter(**{f"{self.field.name}__in": list(client_ids)})
        if self.model is Client:
            # A duplicate referring to another duplicate goes away with it.
            qs = qs.exclude(pk__in=list(client_ids))
        return qs


def _fks_to_client(model: type[models.Model]) -> int:
    return sum(
        1
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey) and f.related_model is Client
    )


def client_relations() -> list[ClientRelation]:
    """Every foreign key to ``Client`` from any installed model except history tables.

    Includes hidden relations: the tag links (the M2M's through table) and the
    links of any other model's many-to-many to clients.
    """
    relations = []
    for rel in Client._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete) or rel.many_to_many:
            continue  # forward fields; many-to-many are covered by their through table's FK
        model = rel.related_model
        if issubclass(model, HistoricalChanges):
            continue
        relations.append(ClientRelation(model=model, field=rel.field))
    return sorted(relations, key=lambda r: (r.model._meta.label, r.field.name))


def _unique_sets(relation: ClientRelation) -> list[tuple[tuple[str, ...], Q | None]]:
    """The other fields that, with the FK, must be unique — each with its condition."""
    model, name = relation.model, relation.field.name
    sets: list[tuple[tuple[str, ...], Q | None]] = []
    if relation.field.unique:
        sets.append(((), None))
    for together in model._meta.unique_together:
        if name in together:
            sets.append((tuple(f for f in together if f != name), None))
    for constraint in model._meta.constraints:
        if constraint.name in HANDLED_CONSTRAINTS:
            continue
        if isinstance(constraint, UniqueConstraint) and name in constraint.fields:
            sets.append((tuple(f for f in constraint.fields if f != name), constraint.condition))
    return sets


def _clashes(relation: ClientRelation, survivor_id: int, duplicate_ids: list[int]) -> list[int]:
    """Rows of the duplicates that would break a unique rule once moved to the survivor."""
    found: list[int] = []
    for others, condition in _unique_sets(relation):
        qs = relation.model._base_manager.filter(
            **{f"{relation.field.name}__in": [survivor_id, *duplicate_ids]}
        )
        if condition is not None:
            qs = qs.filter(condition)
        attnames = [relation.model._meta.get_field(o).attname for o in others]
        rows = sorted(
            qs.values_list("pk", relation.field.attname, *attnames),
            key=lambda r: (r[1] != survivor_id, r[0]),
        )
        seen: set[tuple[Any, ...]] = set()
        for pk, _client, *key in rows:
            if tuple(key) in seen:
                found.append(pk)
            else:
                seen.add(tuple(key))
    return sorted(set(found))


# --------------------------------------------------------------------- plan
@dataclass
class Move:
    relation: ClientRelation
    count: int
    dropped: int = 0  # identical link rows the survivor already has


@dataclass
class Fill:
    field: str
    label: str
    value: Any
    source: Client


@dataclass
class MergePlan:
    """What a merge will do; the preview page shows it, ``client_merge`` carries it out."""

    survivor: Client
    duplicates: list[Client]
    moves: list[Move] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes_added: list[Client] = field(default_factory=list)
    primary_contact: Contact | None = None
    demoted_contacts: list[Contact] = field(default_factory=list)
    access_kept: list[User] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [d.pk for d in self.duplicates]

    @property
    def total_moved(self) -> int:
        return sum(m.count - m.dropped for m in self.moves)


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def plan_merge(*, survivor: Client, duplicates: Sequence[Client]) -> MergePlan:
    """Work out the merge without changing anything (a few queries per relation)."""
    plan = MergePlan(survivor=survivor, duplicates=list(duplicates))
    ids = plan.ids
    for relation in client_relations():
        count = relation.rows_of(ids).count()
        if not count:
            continue
        move = Move(relation=relation, count=count)
        clashes = _clashes(relation, survivor.pk, ids)
        if clashes and relation.is_link:
            move.dropped = len(clashes)
        elif clashes:
            plan.conflicts.append(
                _(
                    "%(records)s: the survivor and a duplicate both have one, and a client can "
                    "have only one. Resolve that first."
                )
                % {"records": relation.label}
            )
        plan.moves.append(move)

    # One primary contact at most: the survivor's, else the first duplicate's.
    primaries = list(
        Contact._base_manager.filter(client_id__in=[survivor.pk, *ids], is_primary=True)
    )
    order = {pk: i for i, pk in enumerate([survivor.pk, *ids])}
    primaries.sort(key=lambda c: (order[c.client_id], c.pk))
    if primaries:
        plan.primary_contact, plan.demoted_contacts = primaries[0], primaries[1:]

    for name in FILLED_FIELDS:
        model_field = Client._meta.get_field(name)
        if not _is_empty(getattr(survivor, model_field.attname)):
            continue
        for duplicate in plan.duplicates:
            value = getattr(duplicate, model_field.attname)
            if name == "referred_by" and value in (survivor.pk, *ids):
                continue
            if not _is_empty(value):
                shown = getattr(duplicate, name) if model_field.is_relation else value
                plan.fills.append(
                    Fill(name, capfirst(str(model_field.verbose_name)), shown, duplicate)
                )
                break
    plan.notes_added = [
        d for d in plan.duplicates if d.notes.strip() and d.notes.strip() not in survivor.notes
    ]
    filled_am = next((f.value.pk for f in plan.fills if f.field == "account_manager"), None)
    keepers = {survivor.owner_id, survivor.account_manager_id, filled_am}
    former = {d.owner_id for d in plan.duplicates} | {d.account_manager_id for d in plan.duplicates}
    former -= keepers | {None}
    plan.access_kept = list(User.objects.filter(pk__in=sorted(former), is_active=True))
    return plan


# ------------------------------------------------------------------ service
def _lock(by: User, ids: list[int]) -> dict[int, Client]:
    """The clients, locked in pk order (two merges never deadlock), as ``by`` sees them."""
    locked = {
        c.pk: c
        for c in Client.objects.visible_to(by)
        .filter(pk__in=ids)
        .select_for_update(of=("self",))
        .order_by("pk")
    }
    if len(locked) != len(ids):
        raise ValidationError(_("One of these clients no longer exists or is not visible to you."))
    for client in locked.values():
        if not access_for(by, client).can_change:
            raise PermissionDenied
    return locked


def _move(relation: ClientRelation, plan: MergePlan, by: User, reason: str) -> None:
    survivor, ids = plan.survivor, plan.ids
    model, attname = relation.model, relation.field.attname
    clashes = _clashes(relation, survivor.pk, ids)
    if clashes:
        if not relation.is_link:
            raise MergeConflict(plan.conflicts or _("These clients cannot be merged."))
        model._base_manager.filter(pk__in=clashes).delete()
    rows = relation.rows_of(ids)
    if model is Client:
        rows = rows.exclude(pk=survivor.pk)
    names = {f.name: f for f in model._meta.concrete_fields}
    stamped = [f.attname for f in names.values() if getattr(f, "auto_now", False)]
    versioned = "version" in names
    now = timezone.now()
    if relation.has_history:
        objs = list(rows.select_for_update().order_by("pk"))
        if not objs:
            return
        for obj in objs:
            setattr(obj, attname, survivor.pk)
            if versioned:
                obj.version += 1
            for stamp in stamped:
                setattr(obj, stamp, now)
        fields = [attname, *stamped, *(["version"] if versioned else [])]
        bulk_update_with_history(
            objs, model, fields, default_user=by, default_change_reason=reason, batch_size=500
        )
        return
    changes: dict[str, Any] = {attname: survivor.pk, **dict.fromkeys(stamped, now)}
    if versioned:
        changes["version"] = F("version") + 1
    rows.update(**changes)


def _referral_loop(survivor: Client) -> bool:
    """Whether the survivor's chain of referrers comes back to it."""
    seen = {survivor.pk}
    current = survivor.referred_by_id
    for _step in range(100):
        if current is None:
            return False
        if current in seen:
            return True
        seen.add(current)
        current = (
            Client._base_manager.filter(pk=current).values_list("referred_by", flat=True).first()
        )
    return True


def _combine_figures(survivor: Client, duplicates: list[Client]) -> None:
    """Derived figures of the merged client, until the nightly jobs recompute them.

    Each deal belongs to exactly one client, so 12-month spends add up.
    """
    everyone = [survivor, *duplicates]
    survivor.spend_12m = sum((c.spend_12m for c in everyone), Decimal("0"))
    survivor.is_key_account = any(c.is_key_account for c in everyone)
    visits = [c.last_visit_at for c in everyone if c.last_visit_at]
    survivor.last_visit_at = max(visits) if visits else None
    due: list[date] = [c.next_visit_due for c in everyone if c.next_visit_due]
    survivor.next_visit_due = min(due) if due else None


@transaction.atomic
def client_merge(*, survivor: Client, duplicates: Sequence[Client], by: User) -> Client:
    """Merge ``duplicates`` into ``survivor``; return the survivor, reloaded.

    Every record pointing at a duplicate now points at the survivor; the
    survivor keeps its own values and takes the duplicates' only where it has
    none; the survivor's history gets a row naming what was merged, and each
    duplicate's history ends with a deletion row saying where it went.
    """
    if not by.has_perm("clients.merge_client"):
        raise PermissionDenied
    duplicate_ids = list(dict.fromkeys(d.pk for d in duplicates))
    if not duplicate_ids or survivor.pk in duplicate_ids:
        raise ValidationError(
            _("Choose a survivor and at least one other client to merge into it.")
        )
    locked = _lock(by, sorted([survivor.pk, *duplicate_ids]))
    survivor = locked[survivor.pk]
    dups = [locked[pk] for pk in duplicate_ids]
    plan = plan_merge(survivor=survivor, duplicates=dups)
    if plan.conflicts:
        raise MergeConflict(plan.conflicts)

    merged_names = ", ".join(f"{d.name} (#{d.pk})" for d in dups)
    reason = _("Moved from %(clients)s when they were merged into %(survivor)s (#%(id)s)") % {
        "clients": merged_names,
        "survivor": survivor.name,
        "id": survivor.pk,
    }
    if plan.demoted_contacts:
        demoted = plan.demoted_contacts
        for contact in demoted:
            contact.is_primary = False
            contact.version += 1
        bulk_update_with_history(
            demoted,
            Contact,
            ["is_primary", "version"],
            default_user=by,
            default_change_reason=reason,
        )
    for relation in client_relations():
        _move(relation, plan, by, reason)

    for fill in plan.fills:
        setattr(survivor, Client._meta.get_field(fill.field).attname, _raw(fill))
    if survivor.referred_by_id in (survivor.pk, *duplicate_ids):
        survivor.referred_by = None
    for duplicate in plan.notes_added:
        heading = _("From %(client)s:") % {"client": duplicate.name}
        survivor.notes = "\n\n".join(
            part
            for part in (survivor.notes.strip(), f"{heading}\n{duplicate.notes.strip()}")
            if part
        )
    _combine_figures(survivor, dups)

    # Former owners and account managers keep seeing the client they worked on.
    for person in plan.access_kept:
        ClientUserObjectPermission.objects.get_or_create(
            user=person,
            permission=_view_permission(),
            content_object=survivor,
        )

    for duplicate in dups:
        duplicate._change_reason = _("Merged into %(survivor)s (#%(id)s)") % {
            "survivor": survivor.name,
            "id": survivor.pk,
        }
        duplicate._history_user = by
        duplicate.delete()

    if _referral_loop(survivor):
        survivor.referred_by = None
    survivor._change_reason = _("Merged %(clients)s into this client") % {"clients": merged_names}
    survivor._history_user = by
    survivor.version += 1
    survivor.save()
    survivor.refresh_from_db()
    return survivor


def _raw(fill: Fill) -> Any:
    return fill.value.pk if isinstance(fill.value, models.Model) else fill.value


def _view_permission() -> Any:
    from django.contrib.auth.models import Permission

    return Permission.objects.get(content_type__app_label="clients", codename="view_client")
