"""Workflows on people: hiring, moving, promoting and deactivating.

Each is one transaction and checks the actor's right to do it, so pages, the
API and scripts share one set of rules.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import ROLE_RANK, HandOver, Role, Team, TeamQuerySet, User, UserQuerySet
from accounts.visibility import owned_models

EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "title",
    "phone",
    "role",
    "team",
    "reports_to",
)


# ------------------------------------------------------------------ who may manage whom
def can_manage_users(actor: User) -> bool:
    return actor.is_active and actor.has_perm("accounts.manage_users")


def manageable_users(actor: User) -> UserQuerySet:
    """The users ``actor`` may edit or deactivate: everyone below them."""
    if not can_manage_users(actor):
        return User.objects.none()
    if actor.sees_everything:
        return User.objects.exclude(pk=actor.pk)
    return User.objects.filter(path__startswith=actor.path).exclude(pk=actor.pk)


def assignable_roles(actor: User) -> list[Role]:
    if actor.sees_everything:
        return list(Role)
    return [Role.ACCOUNT_MANAGER, Role.REP, Role.SUPPORT]


def assignable_managers(actor: User) -> UserQuerySet:
    """Whom a new or moved user may report to: the actor or anyone active below them."""
    qs = User.objects.active()
    if actor.sees_everything:
        return qs
    return qs.filter(path__startswith=actor.path)


def assignable_teams(actor: User) -> TeamQuerySet:
    if actor.sees_everything:
        return Team.objects.all()
    if actor.team_id is None:
        return Team.objects.none()
    return Team.objects.filter(path__startswith=actor.team.path)


def _check(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ValidationError({field: message})


def _validate_placement(actor: User, user: User) -> None:
    """The actor may only place people where they themselves have authority."""
    _check(
        user.role in assignable_roles(actor),
        "role",
        _("You may not give someone the role “%(role)s”.") % {"role": user.get_role_display()},
    )
    if user.reports_to_id is not None:
        _check(
            assignable_managers(actor).filter(pk=user.reports_to_id).exists(),
            "reports_to",
            _("Choose an active person in your part of the organisation."),
        )
    if user.team_id is not None:
        _check(
            assignable_teams(actor).filter(pk=user.team_id).exists(),
            "team",
            _("Choose a team in your part of the organisation."),
        )
    if user.pk:
        blocking = user.direct_reports.filter(is_active=True).exclude(role=Role.SUPPORT)
        if user.role != Role.DIRECTOR:
            rank = ROLE_RANK[Role(user.role)]
            too_senior = [r for r in blocking if ROLE_RANK[Role(r.role)] <= rank]
            _check(
                not too_senior,
                "role",
                _(
                    "%(names)s would then report to someone of the same or a lower role; "
                    "move them first."
                )
                % {"names": ", ".join(str(r) for r in too_senior)},
            )


# ------------------------------------------------------------------------ workflows
@transaction.atomic
def user_create(*, by: User, password: str | None = None, **fields: Any) -> User:
    if not can_manage_users(by):
        raise PermissionDenied
    user = User(**{k: v for k, v in fields.items() if k in (*EDITABLE_FIELDS, "username")})
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _validate_placement(by, user)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_update(*, by: User, user: User, **changes: Any) -> User:
    """Edit someone, including a move (``reports_to``/``team``) or a promotion.

    The reporting path of the whole subtree is rebuilt in the same transaction,
    so visibility follows on the very next request.
    """
    if not manageable_users(by).filter(pk=user.pk).exists():
        raise PermissionDenied
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(unknown)}
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    for name, value in changes.items():
        setattr(user, name, value)
    _validate_placement(by, user)
    user.full_clean(exclude=["password"])
    user._change_reason = _("Changed by %(actor)s") % {"actor": by.username}
    user.save()
    return user


@transaction.atomic
def user_deactivate(*, by: User, user: User, successor: User | None = None) -> HandOver:
    """Deactivate ``user`` and hand everything they own to ``successor``.

    The successor defaults to the user's manager. Their records, direct
    reports and managed teams all move in this one transaction; nothing is
    deleted, and a ``HandOver`` row says what moved.
    """
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    if not manageable_users(by).filter(pk=user.pk).exists():
        raise PermissionDenied
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise ValidationError(_("%(user)s is already inactive.") % {"user": user})
    successor = successor or user.reports_to
    if successor is None:
        raise ValidationError({"successor": _("Choose who takes over this person's records.")})
    successor = User.objects.select_for_update().get(pk=successor.pk)
    _check(successor.pk != user.pk, "successor", _("Choose someone else."))
    _check(successor.is_active, "successor", _("The successor must be active."))
    _check(
        successor.pk == by.pk or assignable_managers(by).filter(pk=successor.pk).exists(),
        "successor",
        _("Choose an active person in your part of the organisation."),
    )

    moved: dict[str, int] = {}
    for model, fields in owned_models():
        for field in fields:
            count = model._base_manager.filter(**{field: user}).update(**{field: successor})
            if count:
                label = f"{model._meta.label}.{field}"
                moved[label] = moved.get(label, 0) + count

    if successor.is_at_or_below(user):
        # Someone from the team steps up into the leaver's place first, so that
        # re-parenting the rest cannot create a loop.
        successor.reports_to_id = user.reports_to_id
        successor.save()
    reports = list(user.direct_reports.exclude(pk=successor.pk))
    for report in reports:
        report.reports_to = successor
        report.save()
    moved["direct_reports"] = len(reports)
    moved["teams"] = user.managed_teams.update(manager=successor)

    user.is_active = False
    user._change_reason = _("Deactivated by %(actor)s") % {"actor": by.username}
    user.save()
    return HandOver.objects.create(from_user=user, to_user=successor, by=by, moved=moved)
