"""Workflows on clients and contacts: create, edit, delete, share, assign, revert.

Pages and the API call these same functions, so the role rules hold whichever
way a change arrives:

- reps create clients and own them; nobody without
  ``clients.change_client_ownership`` sets or changes an owner, tier or money
  field (``Client.PROTECTED_FIELDS``) — support staff edit master and contact
  data of their region's clients and nothing else;
- the dedicated account manager is set by whoever holds
  ``clients.assign_account_manager``, choosing among active account managers
  they can see;
- every write starts from a record the actor can see and checks what the actor
  may do with it (``access_for``), and saves with ``save_versioned`` so a stale
  edit is refused instead of overwriting someone else's.

Each function is one transaction; validation errors are Django
``ValidationError``s keyed by field, which forms show next to the field and the
API returns as 400.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Role, User, UserQuerySet
from accounts.notifications import notify
from accounts.visibility import Access, Relation, access_for
from clients.models import Client, ClientUserObjectPermission, Contact, Tag

#: What anyone who may edit a client may change (support included).
MASTER_FIELDS = (
    "name",
    "registration_number",
    "external_id",
    "status",
    "source",
    "referred_by",
    "industry",
    "segment",
    "region",
    "cadence",
    "phone",
    "email",
    "website",
    "address",
    "city",
    "province",
    "notes",
)
#: Ownership, tier and money: only with ``clients.change_client_ownership``.
PROTECTED_FIELDS = Client.PROTECTED_FIELDS
CLIENT_FIELDS = (*MASTER_FIELDS, *PROTECTED_FIELDS)
#: What a revert restores: master data, ownership and tags — not the derived
#: figures (spend, tier, RFM, visits), which jobs recompute from deals and visits.
REVERTIBLE_FIELDS = (*MASTER_FIELDS, "owner", "account_manager")

CONTACT_FIELDS = (
    "name",
    "title",
    "department",
    "phone",
    "email",
    "wechat_id",
    "decision_role",
    "is_primary",
    "notes",
)

#: Share levels and the object permissions each one grants.
SHARE_LEVELS: dict[str, tuple[str, ...]] = {
    "view": ("view_client",),
    "edit": ("view_client", "change_client"),
}


# ------------------------------------------------------------------ who may do what
def writable_client_fields(actor: User) -> frozenset[str]:
    """The client fields ``actor``'s role may set; forms show only these."""
    fields = set(MASTER_FIELDS)
    if actor.has_perm("clients.change_client_ownership"):
        fields.update(PROTECTED_FIELDS)
    elif actor.has_perm("clients.assign_account_manager"):
        fields.add("account_manager")
    return frozenset(fields)


def assignable_owners(actor: User) -> UserQuerySet:
    """Whom ``actor`` may make a client's owner: active people at or below them."""
    qs = User.objects.active()
    if actor.sees_everything:
        return qs
    return qs.filter(path__startswith=actor.path)


def assignable_account_managers(actor: User) -> UserQuerySet:
    """Active account managers ``actor`` can see."""
    return User.objects.visible_to(actor).active().filter(role=Role.ACCOUNT_MANAGER)


def shareable_users(actor: User) -> UserQuerySet:
    """Anyone active in the company may receive a share (the point is to reach
    people outside one's own line)."""
    return User.objects.active()


def can_share(actor: User, client: Client) -> bool:
    """The owner, anyone above the owner in the reporting line, and the director."""
    if not actor.is_active or not actor.has_perm("clients.share_client"):
        return False
    if actor.sees_everything:
        return True
    return client.owner.path.startswith(actor.path)


def can_assign_account_manager(actor: User, access: Access[Client]) -> bool:
    return actor.has_perm("clients.assign_account_manager") and access.can_change


def can_write_contacts(actor: User, access: Access[Client], action: str) -> bool:
    """May ``actor`` add/change/delete contacts of the client ``access`` describes?

    Contacts are the client's data: the role needs the contact permission, and
    someone who sees the client only through a view grant may not edit them.
    """
    if not actor.has_perm(f"clients.{action}_contact") or access.relation == Relation.NONE:
        return False
    if access.relation == Relation.GRANT:
        return access.can_change
    return True


# ------------------------------------------------------------------------ helpers
def _label(model: type[Client] | type[Contact], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _value_key(model: type[Client] | type[Contact], name: str, value: Any) -> Any:
    """A comparable form of a field value (a foreign key compares by id)."""
    field = model._meta.get_field(name)
    if field.is_relation and value is not None and hasattr(value, "pk"):
        return value.pk
    if isinstance(value, str):
        return value.strip()
    return value


def _current_key(obj: Client | Contact, name: str) -> Any:
    field = type(obj)._meta.get_field(name)
    if field.is_relation:
        return getattr(obj, field.attname)
    value = getattr(obj, name)
    return value.strip() if isinstance(value, str) else value


def _apply(
    actor: User,
    obj: Client | Contact,
    changes: dict[str, Any],
    allowed: Iterable[str],
    known: Iterable[str],
) -> set[str]:
    """Set the fields that really change; refuse any the actor may not change.

    A field sent with its current value is not a change, so an API client that
    PUTs back the whole record it read is not refused for fields it left alone.
    Nothing is set unless every change is allowed.
    """
    model = type(obj)
    allowed = set(allowed)
    known = set(known)
    refused: dict[str, str] = {}
    changed: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in known:
            raise TypeError(f"{model.__name__} has no editable field {name!r}.")
        if _value_key(model, name, value) == _current_key(obj, name):
            continue
        if name not in allowed:
            refused[name] = _("Your role may not change “%(field)s”.") % {
                "field": _label(model, name)
            }
        else:
            changed[name] = value
    if refused:
        raise ValidationError(refused)
    for name, value in changed.items():
        field = model._meta.get_field(name)
        if field.is_relation and value is not None and not hasattr(value, "pk"):
            setattr(obj, field.attname, value)
        else:
            setattr(obj, name, value)
    return set(changed)


def registration_number_taken_message(actor: User, number: str, exclude_pk: int | None) -> str:
    """Who already has this registration number, said as much as ``actor`` may know."""
    others = Client.objects.filter(registration_number=number)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    other = others.only("pk", "name").first()
    if other is None:
        return ""
    if Client.objects.visible_to(actor).filter(pk=other.pk).exists():
        return _("“%(client)s” already has this registration number (id %(id)s).") % {
            "client": other.name,
            "id": other.pk,
        }
    return _(
        "Another client already has this registration number; you cannot see it — ask "
        "sales support to check for a duplicate."
    )


def _validate_client(actor: User, client: Client) -> None:
    """Every rule on the client's data, with every problem reported at once."""
    errors: dict[str, list[Any]] = {}
    try:
        client.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    number = (client.registration_number or "").strip().upper()
    if number and "registration_number" not in errors:
        taken = registration_number_taken_message(actor, number, client.pk)
        if taken:
            errors["registration_number"] = [taken]
    if client.external_id:
        duplicate = (
            Client.objects.filter(external_id=client.external_id).exclude(pk=client.pk).exists()
        )
        if duplicate:
            errors.setdefault("external_id", []).append(
                _("Another client already has this external id.")
            )
    if client.owner_id and not User.objects.filter(pk=client.owner_id, is_active=True).exists():
        errors.setdefault("owner", []).append(_("The owner must be an active user."))
    if errors:
        raise ValidationError(errors)


def _check_assignments(actor: User, client: Client, changed: set[str]) -> None:
    if "owner" in changed and not assignable_owners(actor).filter(pk=client.owner_id).exists():
        raise ValidationError(
            {"owner": _("Choose an active person in your part of the organisation.")}
        )
    if (
        "account_manager" in changed
        and client.account_manager_id is not None
        and not assignable_account_managers(actor).filter(pk=client.account_manager_id).exists()
    ):
        raise ValidationError(
            {"account_manager": _("Choose an active account manager you can see.")}
        )


def _save_unique(obj: Client, save: Any) -> None:
    """Run ``save``; a unique index hit by a concurrent write becomes a form error."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError as exc:
        text = str(exc)
        if "registration_number" in text:
            raise ValidationError(
                {"registration_number": _("Another client already has this registration number.")}
            ) from exc
        if "external_id" in text:
            raise ValidationError(
                {"external_id": _("Another client already has this external id.")}
            ) from exc
        raise


def _set_tags(client: Client, tags: Iterable[Tag] | None, *, record: bool) -> bool:
    """Set the client's tags; ``record=False`` keeps simple-history from writing
    a separate row for the tag change (the save that follows records them)."""
    if tags is None:
        return False
    wanted = {t.pk for t in tags}
    if wanted == set(client.tags.values_list("pk", flat=True)):
        return False
    if not record:
        client.skip_history_when_saving = True
    try:
        client.tags.set(wanted)
    finally:
        if not record:
            del client.skip_history_when_saving
    return True


def tags_from_names(actor: User, names: str) -> list[Tag]:
    """Tags named in a comma-separated string; new ones need ``clients.add_tag``."""
    wanted = []
    for raw in names.replace("，", ",").split(","):
        name = raw.strip()[:50]
        if name and name not in wanted:
            wanted.append(name)
    if not wanted:
        return []
    existing = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    missing = [n for n in wanted if n not in existing]
    if missing and not actor.has_perm("clients.add_tag"):
        raise ValidationError(
            {
                "new_tags": _("Your role may not create tags: %(tags)s.")
                % {"tags": ", ".join(missing)}
            }
        )
    for name in missing:
        existing[name], _created = Tag.objects.get_or_create(name=name)
    return [existing[n] for n in wanted]


# ------------------------------------------------------------------------ clients
@transaction.atomic
def client_create(
    *,
    by: User,
    tags: Iterable[Tag] | None = None,
    contact: dict[str, Any] | None = None,
    **fields: Any,
) -> Client:
    """A new client, owned by its creator unless they may give it to someone else.

    ``contact`` (optional) is the client's first contact; it becomes the primary one.
    """
    if not by.is_active or not by.has_perm("clients.add_client"):
        raise PermissionDenied
    client = Client(owner=by, created_by=by)
    changed = _apply(by, client, fields, writable_client_fields(by), CLIENT_FIELDS)
    _check_assignments(by, client, changed)
    if client.region_id is None:
        # Default to the owner's region, which is where support maintains it.
        owner = by if client.owner_id == by.pk else client.owner
        client.region = owner.region
    _validate_client(by, client)
    client._history_user = by
    _save_unique(client, client.save)
    # The creation row is already written; the tagging is its own history row.
    _set_tags(client, tags, record=True)
    if contact:
        try:
            contact_create(by=by, client=client, **{"is_primary": True, **contact})
        except ValidationError as exc:
            # Keyed "contact.<field>": the contact's phone is not the client's phone.
            errors = exc.update_error_dict({})
            raise ValidationError(
                {f"contact.{name}": errs for name, errs in errors.items()}
            ) from exc
    return client


@transaction.atomic
def client_update(
    *,
    by: User,
    client: Client,
    expected_version: int | None,
    tags: Iterable[Tag] | None = None,
    reason: str = "",
    **changes: Any,
) -> Client:
    """Change a client the actor may edit; a stale ``expected_version`` raises ``StaleWrite``."""
    access = access_for(by, client)
    if not access.can_change:
        raise PermissionDenied
    changed = _apply(by, client, changes, writable_client_fields(by), CLIENT_FIELDS)
    _check_assignments(by, client, changed)
    _validate_client(by, client)
    # Tags first and unrecorded: the versioned save below writes one history row
    # holding both the field and the tag changes, and rolls both back if stale.
    _set_tags(client, tags, record=False)
    client._history_user = by
    if reason:
        client._change_reason = reason
    _save_unique(client, lambda: client.save_versioned(expected_version=expected_version))
    if "account_manager" in changed and client.account_manager_id:
        _tell_account_manager(by, client)
    return client


@transaction.atomic
def client_delete(*, by: User, client: Client) -> None:
    access = access_for(by, client)
    if not access.can_delete:
        raise PermissionDenied
    client._history_user = by
    try:
        with transaction.atomic():
            client.delete()
    except ProtectedError as exc:
        raise ValidationError(
            _(
                "“%(client)s” cannot be deleted: deals, contracts or other records still "
                "refer to it. Merge it into another client instead, or mark it as lost."
            )
            % {"client": client.name}
        ) from exc


@transaction.atomic
def client_assign_account_manager(
    *,
    by: User,
    client: Client,
    account_manager: User | None,
    expected_version: int | None = None,
) -> Client:
    """Give a client its dedicated account manager (or take it away with ``None``)."""
    access = access_for(by, client)
    if not can_assign_account_manager(by, access):
        raise PermissionDenied
    new_id = account_manager.pk if account_manager else None
    if new_id is not None and not assignable_account_managers(by).filter(pk=new_id).exists():
        raise ValidationError(
            {"account_manager": _("Choose an active account manager you can see.")}
        )
    if new_id == client.account_manager_id:
        return client
    client.account_manager_id = new_id
    client._history_user = by
    client._change_reason = (
        _("Account manager set to %(user)s") % {"user": account_manager}
        if account_manager
        else _("Account manager removed")
    )
    client.save_versioned(expected_version=expected_version)
    if account_manager:
        _tell_account_manager(by, client)
    return client


def _tell_account_manager(by: User, client: Client) -> None:
    am = client.account_manager
    if am is None or am.pk == by.pk:
        return
    notify(
        recipients=[am],
        kind="client_account_manager",
        subject=_("You are now the account manager of %(client)s") % {"client": client.name},
        message=_("%(user)s made you the dedicated account manager of %(client)s.")
        % {"user": by, "client": client.name},
        url=client.get_absolute_url(),
    )


# ------------------------------------------------------------------------ history
@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any


def tag_history_model() -> Any:
    """simple-history's model of the client-tag rows saved with each history row."""
    return Client.history.model.tags.model


def tracked_client_fields() -> list[str]:
    """Client fields simple-history keeps, in form order (for diffs)."""
    tracked = {f.name for f in Client.history.model.tracked_fields}
    order = [*CLIENT_FIELDS, "last_visit_at", "next_visit_due", "rfm_scored_at"]
    return [name for name in order if name in tracked]


@transaction.atomic
def client_revert(
    *,
    by: User,
    client: Client,
    history_id: int,
    expected_version: int | None,
) -> Client:
    """Put a client's master data, owner, account manager and tags back as they
    were in one of its history rows; saved as a new version with a reason, so the
    revert itself can be reverted."""
    access = access_for(by, client)
    if not by.has_perm("clients.revert_client") or not access.can_change:
        raise PermissionDenied
    try:
        record = client.history.get(history_id=history_id)
    except client.history.model.DoesNotExist as exc:
        raise ValidationError(_("That version of this client does not exist.")) from exc
    for name in REVERTIBLE_FIELDS:
        field = Client._meta.get_field(name)
        setattr(client, field.attname, getattr(record, field.attname))
    if client.referred_by_id and not Client.objects.filter(pk=client.referred_by_id).exists():
        client.referred_by_id = None
    for name in ("owner", "account_manager"):
        user_id = getattr(client, f"{name}_id")
        if user_id and not User.objects.filter(pk=user_id, is_active=True).exists():
            raise ValidationError(
                {
                    name: _(
                        "This version's %(field)s has left; assign a current person instead "
                        "of reverting."
                    )
                    % {"field": _label(Client, name)}
                }
            )
    _validate_client(by, client)
    tag_ids = list(
        tag_history_model()
        .objects.filter(history_id=record.history_id)
        .values_list("tag_id", flat=True)
    )
    _set_tags(client, Tag.objects.filter(pk__in=tag_ids), record=False)
    client._history_user = by
    client._change_reason = _("Reverted to the version of %(when)s") % {
        "when": date_format(timezone.localtime(record.history_date), "SHORT_DATETIME_FORMAT")
    }
    _save_unique(client, lambda: client.save_versioned(expected_version=expected_version))
    return client


# ------------------------------------------------------------------------ sharing
@dataclass(frozen=True)
class Share:
    user: User
    level: str  # "view" or "edit"

    @property
    def level_label(self) -> str:
        return _("can edit") if self.level == "edit" else _("can view")


def client_shares(client: Client) -> list[Share]:
    """Who the client is shared with and how (one query)."""
    by_user: dict[int, tuple[User, set[str]]] = {}
    rows = (
        ClientUserObjectPermission.objects.filter(content_object=client)
        .select_related("user", "permission")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    for row in rows:
        by_user.setdefault(row.user_id, (row.user, set()))[1].add(row.permission.codename)
    return [
        Share(user, "edit" if "change_client" in codes else "view")
        for user, codes in by_user.values()
    ]


@transaction.atomic
def client_share(*, by: User, client: Client, user: User, level: str) -> Share:
    """Let ``user`` see (``view``) or also edit (``edit``) ``client``; replaces an earlier share."""
    if not can_share(by, client):
        raise PermissionDenied
    if level not in SHARE_LEVELS:
        raise ValidationError({"level": _("Choose “view” or “edit”.")})
    if not user.is_active:
        raise ValidationError({"user": _("Only active people can receive a share.")})
    if user.pk in (client.owner_id, by.pk):
        raise ValidationError({"user": _("%(user)s already has this client.") % {"user": user}})
    _remove_grants(client, user)
    for codename in SHARE_LEVELS[level]:
        assign_perm(f"clients.{codename}", user, client)
    notify(
        recipients=[user],
        kind="client_shared",
        subject=_("%(user)s shared %(client)s with you") % {"user": by, "client": client.name},
        message=_("%(user)s shared the client %(client)s with you (%(level)s).")
        % {"user": by, "client": client.name, "level": Share(user, level).level_label},
        url=client.get_absolute_url(),
    )
    return Share(user, level)


@transaction.atomic
def client_unshare(*, by: User, client: Client, user: User) -> bool:
    """Take back a share; the person stops seeing the client on their next request."""
    if not can_share(by, client):
        raise PermissionDenied
    return _remove_grants(client, user)


def _remove_grants(client: Client, user: User) -> bool:
    had = ClientUserObjectPermission.objects.filter(content_object=client, user=user).exists()
    for codename in {c for codes in SHARE_LEVELS.values() for c in codes}:
        remove_perm(f"clients.{codename}", user, client)
    return had


# ------------------------------------------------------------------------ contacts
def _contact_access(by: User, client: Client, action: str) -> None:
    if not can_write_contacts(by, access_for(by, client), action):
        raise PermissionDenied


def _demote_other_primary(contact: Contact) -> None:
    """One primary contact per client: the new primary takes over the flag."""
    others = Contact.objects.select_for_update().filter(
        client_id=contact.client_id, is_primary=True
    )
    if contact.pk:
        others = others.exclude(pk=contact.pk)
    for other in others:
        other.is_primary = False
        other.save_versioned(expected_version=None)


def _validate_contact(contact: Contact) -> None:
    contact.full_clean(exclude=["client"], validate_unique=False, validate_constraints=False)


@transaction.atomic
def contact_create(*, by: User, client: Client, **fields: Any) -> Contact:
    """Add a contact; the client's first contact becomes its primary one."""
    _contact_access(by, client, "add")
    contact = Contact(client=client)
    _apply(by, contact, fields, CONTACT_FIELDS, CONTACT_FIELDS)
    if not contact.is_primary and not client.contacts.exists():
        contact.is_primary = True
    _validate_contact(contact)
    if contact.is_primary:
        _demote_other_primary(contact)
    contact._history_user = by
    contact.save()
    return contact


@transaction.atomic
def contact_update(
    *, by: User, contact: Contact, expected_version: int | None, **changes: Any
) -> Contact:
    _contact_access(by, contact.client, "change")
    changed = _apply(by, contact, changes, CONTACT_FIELDS, CONTACT_FIELDS)
    _validate_contact(contact)
    if "is_primary" in changed and contact.is_primary:
        _demote_other_primary(contact)
    contact._history_user = by
    contact.save_versioned(expected_version=expected_version)
    return contact


@transaction.atomic
def contact_delete(*, by: User, contact: Contact) -> None:
    _contact_access(by, contact.client, "delete")
    contact._history_user = by
    contact.delete()
