"""Deals: creation, edits, stage moves, won/lost, and the client's spend.

Every stage change — the first one at creation included — writes a
``DealStageChange`` (from, to, who, when, amount, probability) in the same
transaction as the move, so the funnel, cycle times and the negotiation cycle
can always be computed from what is stored.

Moves and edits are optimistic: the caller passes the ``version`` it read. The
deal row is locked (``SELECT ... FOR UPDATE``) and its version compared before
anything is written, so of two people moving the same deal at once exactly
one wins and the other gets ``StaleWrite`` (a conflict message on the board,
409 in the API) — never a silent lost update.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    BooleanField,
    Case,
    DecimalField,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.visibility import access_for
from clients.models import Client
from pipeline.models import Deal, DealStageChange, Product, Stage
from salesorg.lib.concurrency import StaleWrite

#: Fields ``deal_update`` changes; the stage only moves through ``deal_move``.
DEAL_EDITABLE = (
    "title",
    "amount",
    "currency",
    "probability",
    "expected_close_date",
    "next_step",
    "competitor",
    "owner",
    "products",
)


# ------------------------------------------------------------------------ stages
def open_stages() -> list[Stage]:
    """The active open stages in board order (one small query; stages are data)."""
    return list(Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True).order_by("order", "pk"))


def first_stage() -> Stage:
    stage = (
        Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True).order_by("order", "pk").first()
    )
    if stage is None:
        raise ValidationError(_("No open stage is in use; ask the director to set up stages."))
    return stage


def closing_stage(kind: str) -> Stage:
    """The active won (or lost) stage."""
    stage = Stage.objects.filter(kind=kind, is_active=True).order_by("order", "pk").first()
    if stage is None:
        raise ValidationError(_("No stage for this outcome is in use."))
    return stage


# ------------------------------------------------------------------- permissions
def can_move(user: User, deal: Deal) -> bool:
    """Moving needs the role's ``move_deal`` and the right to change this deal."""
    return user.has_perm("pipeline.move_deal") and access_for(user, deal).can_change


def assignable_owners(user: User):
    """Whom ``user`` may give a deal or lead to: themselves and the active people below
    them (for support staff, their region's), not support staff and not their bosses."""
    from accounts.models import Role

    owners = User.objects.active().exclude(role=Role.SUPPORT)
    scope = user.visibility_scope
    if scope.everything:
        return owners
    return owners.filter(pk__in=sorted(scope.user_ids | {user.pk}))


def _check_owner(by: User, owner: User, perm: str) -> None:
    if owner.pk == by.pk:
        return
    if not by.has_perm(perm):
        raise PermissionDenied
    if not assignable_owners(by).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("Choose an active person in your part of the team.")})


# ---------------------------------------------------------------------- helpers
def _record_change(deal: Deal, from_stage: Stage | None, by: User | None) -> DealStageChange:
    return DealStageChange.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=deal.stage,
        owner_id=deal.owner_id,
        changed_by=by,
        changed_at=deal.stage_changed_at or timezone.now(),
        amount=deal.amount,
        probability=deal.probability,
    )


def _locked(deal: Deal, expected_version: int | None) -> Deal:
    """The deal's row, locked for this transaction, at the version the caller read."""
    # Lock first without joins: PostgreSQL re-checks a locked row that another
    # transaction changed, and with a join on the stage it would drop the row
    # whose stage just moved. Read the current row with its relations after.
    Deal.objects.select_for_update().filter(pk=deal.pk).values_list("pk", flat=True).get()
    locked = Deal.objects.select_related("stage", "client").get(pk=deal.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleWrite(locked)
    return locked


def _save(deal: Deal, by: User) -> None:
    deal._history_user = by  # type: ignore[attr-defined]  # also right for API/token calls
    deal.save_versioned(expected_version=deal.version)


# ----------------------------------------------------------------------- create
def deal_insert(
    *,
    by: User | None,
    client: Client,
    owner: User,
    title: str,
    amount: Decimal = Decimal("0"),
    currency: str = settings.DEFAULT_CURRENCY,
    stage: Stage | None = None,
    probability: int | None = None,
    expected_close_date: date | None = None,
    next_step: str = "",
    competitor: str = "",
    products: Iterable[Product] = (),
) -> Deal:
    """Insert a validated deal and its first stage change (no permission checks).

    For callers that have checked the actor's rights their own way, such as
    ``lead_convert`` (the deal goes to the lead's owner, whoever converts).
    """
    stage = stage or first_stage()
    if stage.kind != Stage.Kind.OPEN or not stage.is_active:
        raise ValidationError({"stage": _("A new deal starts in an open stage that is in use.")})
    deal = Deal(
        client=client,
        owner=owner,
        title=title,
        amount=amount,
        currency=currency or settings.DEFAULT_CURRENCY,
        stage=stage,
        probability=stage.probability if probability is None else probability,
        expected_close_date=expected_close_date,
        next_step=next_step,
        competitor=competitor,
        stage_changed_at=timezone.now(),
    )
    deal.full_clean()
    if by is not None:
        deal._history_user = by  # type: ignore[attr-defined]
    deal.save()
    products = list(products)
    if products:
        deal.products.set(products)
    _record_change(deal, None, by)
    return deal


@transaction.atomic
def deal_create(
    *,
    by: User,
    client: Client,
    title: str,
    owner: User | None = None,
    **fields: Any,
) -> Deal:
    """A new deal on a client the actor sees, in the first stage unless told otherwise.

    The probability defaults to the stage's; giving the deal to someone else
    needs ``reassign_deal``.
    """
    if not by.has_perm("pipeline.add_deal"):
        raise PermissionDenied
    if not Client.objects.visible_to(by).filter(pk=client.pk).exists():
        raise ValidationError({"client": _("Choose a client you can see.")})
    owner = owner or by
    _check_owner(by, owner, "pipeline.reassign_deal")
    return deal_insert(by=by, client=client, owner=owner, title=title, **fields)


# ------------------------------------------------------------------------- edit
@transaction.atomic
def deal_update(*, by: User, deal: Deal, expected_version: int | None, **changes: Any) -> Deal:
    """Edit a deal's fields (not its stage or client), refusing a stale version."""
    if "stage" in changes:
        raise ValidationError(
            {"stage": _("Move a deal to another stage with the move, won or lost actions.")}
        )
    unknown = set(changes) - set(DEAL_EDITABLE)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    locked = _locked(deal, expected_version)
    if not (by.has_perm("pipeline.change_deal") and access_for(by, locked).can_change):
        raise PermissionDenied
    if "owner" in changes and changes["owner"].pk != locked.owner_id:
        if not by.has_perm("pipeline.reassign_deal"):
            raise PermissionDenied
        if not assignable_owners(by).filter(pk=changes["owner"].pk).exists():
            raise ValidationError({"owner": _("Choose an active person in your part of the team.")})
    products = changes.pop("products", None)
    spend_before = (locked.amount, locked.currency)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.full_clean()
    _save(locked, by)
    if products is not None:
        locked.products.set(products)
    if locked.stage.kind == Stage.Kind.WON and spend_before != (locked.amount, locked.currency):
        client_refresh_spend([locked.client_id])
    return locked


# ------------------------------------------------------------------------ moves
@transaction.atomic
def deal_move(
    *,
    by: User,
    deal: Deal,
    stage: Stage,
    expected_version: int | None,
    closed_on: date | None = None,
    amount: Decimal | None = None,
    lost_reason: str = "",
    competitor: str | None = None,
    probability: int | None = None,
) -> Deal:
    """Move a deal to ``stage``; the one way a deal's stage ever changes.

    Won needs the close date and the final amount; lost needs a reason (and
    may name the competitor) and closes today unless told otherwise. Moving
    back to an open stage reopens a closed deal. Whenever a won deal is
    involved the client's spend and key-account flag are recomputed.
    """
    locked = _locked(deal, expected_version)
    if not can_move(by, locked):
        raise PermissionDenied
    if not stage.is_active:
        raise ValidationError({"stage": _("This stage is no longer in use.")})
    if stage.pk == locked.stage_id:
        raise ValidationError({"stage": _("The deal is already in this stage.")})
    today = timezone.localdate()
    errors: dict[str, str] = {}
    was_won = locked.stage.kind == Stage.Kind.WON
    from_stage = locked.stage

    if stage.kind == Stage.Kind.WON:
        if closed_on is None:
            errors["closed_on"] = _("Say when the deal was won.")
        elif closed_on > today:
            errors["closed_on"] = _("A deal is won today or earlier, not in the future.")
        if amount is None:
            errors["amount"] = _("Give the final amount.")
        elif amount < 0:
            errors["amount"] = _("The amount cannot be negative.")
        if errors:
            raise ValidationError(errors)
        locked.closed_on = closed_on
        locked.amount = amount
        locked.lost_reason = ""
    elif stage.kind == Stage.Kind.LOST:
        if not (lost_reason or "").strip():
            raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
        if closed_on is not None and closed_on > today:
            raise ValidationError({"closed_on": _("A deal is lost today or earlier.")})
        locked.closed_on = closed_on or today
        locked.lost_reason = lost_reason.strip()
        if amount is not None:
            locked.amount = amount
    else:
        locked.closed_on = None
        locked.lost_reason = ""
        if amount is not None:
            locked.amount = amount
    if competitor is not None:
        locked.competitor = competitor.strip()
    locked.stage = stage
    locked.probability = stage.probability if probability is None else probability
    locked.stage_changed_at = timezone.now()
    locked.full_clean()
    _save(locked, by)
    _record_change(locked, from_stage, by)
    if was_won or stage.kind == Stage.Kind.WON:
        client_refresh_spend([locked.client_id])
    return locked


def deal_mark_won(
    *, by: User, deal: Deal, closed_on: date, amount: Decimal, expected_version: int | None
) -> Deal:
    return deal_move(
        by=by,
        deal=deal,
        stage=closing_stage(Stage.Kind.WON),
        expected_version=expected_version,
        closed_on=closed_on,
        amount=amount,
    )


def deal_mark_lost(
    *,
    by: User,
    deal: Deal,
    reason: str,
    competitor: str = "",
    expected_version: int | None,
    closed_on: date | None = None,
) -> Deal:
    return deal_move(
        by=by,
        deal=deal,
        stage=closing_stage(Stage.Kind.LOST),
        expected_version=expected_version,
        lost_reason=reason,
        competitor=competitor,
        closed_on=closed_on,
    )


def reopen_stage_for(deal: Deal) -> Stage:
    """Where a reopened deal goes: the open stage it was closed from, else the first."""
    last = (
        DealStageChange.objects.filter(
            deal=deal, to_stage=deal.stage_id, from_stage__kind=Stage.Kind.OPEN
        )
        .select_related("from_stage")
        .order_by("-changed_at", "-pk")
        .first()
    )
    if last is not None and last.from_stage.is_active:
        return last.from_stage
    return first_stage()


def deal_reopen(
    *, by: User, deal: Deal, expected_version: int | None, stage: Stage | None = None
) -> Deal:
    """Reopen a won or lost deal (into ``stage`` or where it was closed from)."""
    if deal.stage.kind == Stage.Kind.OPEN:
        raise ValidationError({"stage": _("The deal is open already.")})
    stage = stage or reopen_stage_for(deal)
    if stage.kind != Stage.Kind.OPEN:
        raise ValidationError({"stage": _("Reopen a deal into an open stage.")})
    return deal_move(by=by, deal=deal, stage=stage, expected_version=expected_version)


@transaction.atomic
def deal_delete(*, by: User, deal: Deal) -> None:
    """Delete a deal entered by mistake (a duplicate); one with paperwork is marked lost instead.

    Quotes would go with it and contracts lose their deal, so a deal that has
    either is refused. A won deal's client spend is recomputed.
    """
    locked = _locked(deal, None)
    if not (by.has_perm("pipeline.delete_deal") and access_for(by, locked).can_delete):
        raise PermissionDenied
    if locked.quotes.exists() or locked.contracts.exists():
        raise ValidationError(
            _("This deal has quotes or contracts; mark it lost instead of deleting it.")
        )
    won, client_id = locked.stage.kind == Stage.Kind.WON, locked.client_id
    locked._history_user = by  # type: ignore[attr-defined]
    locked.delete()
    if won:
        client_refresh_spend([client_id])


# ------------------------------------------------------------------ client spend
def _a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def client_refresh_spend(client_ids: Iterable[int] | None, *, today: date | None = None) -> int:
    """Recompute ``spend_12m`` and ``is_key_account`` of these clients (``None``: all), in SQL.

    Spend is the sum of won deals' amounts closed in the last twelve months
    (after the same day a year ago, up to today) in the default currency —
    amounts in other currencies need exchange rates the product does not keep
    yet, so they are left out rather than added as if they were yuan. A client
    is a key account when that spend exceeds ``SALESORG_KEY_ACCOUNT_THRESHOLD``.

    One UPDATE with a correlated subquery, so the nightly job can call it for
    every client and the won/lost services for one. The client's ``version``
    is not bumped: these are derived fields, not someone's edit.
    """
    today = today or timezone.localdate()
    won = (
        Deal.objects.filter(
            client=OuterRef("pk"),
            stage__kind=Stage.Kind.WON,
            currency=settings.DEFAULT_CURRENCY,
            closed_on__gt=_a_year_before(today),
            closed_on__lte=today,
        )
        .order_by()
        .values("client")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    spend = Coalesce(Subquery(won, output_field=money), Value(Decimal("0")), output_field=money)
    threshold = Value(Client.key_account_threshold(), output_field=money)
    clients = Client.objects.all()
    if client_ids is not None:
        ids = sorted(set(client_ids))
        if not ids:
            return 0
        clients = clients.filter(pk__in=ids)
    return clients.update(
        spend_12m=spend,
        is_key_account=Case(
            When(GreaterThan(spend, threshold), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


# ----------------------------------------------------------------- stage admin
STAGE_EDITABLE = ("name", "name_zh", "order", "probability", "is_active")


def _check_stage_admin(by: User, perm: str) -> None:
    if not by.has_perm(perm):
        raise PermissionDenied


@transaction.atomic
def stage_update(*, by: User, stage: Stage, **changes: Any) -> Stage:
    """Rename, reorder, re-weight or retire a stage (the director's job).

    The won and lost stages stay in use, and a stage still holding open deals
    cannot be retired: those deals would drop off the board.
    """
    _check_stage_admin(by, "pipeline.change_stage")
    unknown = set(changes) - set(STAGE_EDITABLE)
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s")
            % {"fields": ", ".join(sorted(unknown))}
        )
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    for name, value in changes.items():
        setattr(stage, name, value)
    if not stage.is_active:
        if stage.kind != Stage.Kind.OPEN:
            raise ValidationError({"is_active": _("The won and lost stages stay in use.")})
        if Deal.objects.filter(stage=stage).exists():
            raise ValidationError(
                {
                    "is_active": _("Deals are still in “%(stage)s”; move them first.")
                    % {"stage": stage}
                }
            )
        others = Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True).exclude(pk=stage.pk)
        if not others.exists():
            raise ValidationError({"is_active": _("At least one open stage stays in use.")})
    stage.full_clean()
    stage.save()
    return stage


@transaction.atomic
def stage_create(
    *, by: User, name: str, order: int, probability: int, name_zh: str = "", code: str = ""
) -> Stage:
    """Add an open stage; the won and lost stages exist once and are not added."""
    from django.utils.text import slugify

    _check_stage_admin(by, "pipeline.add_stage")
    base = code or slugify(name)[:24] or "stage"
    code, n = base, 1
    while Stage.objects.filter(code=code).exists():
        n += 1
        code = f"{base}-{n}"
    stage = Stage(
        code=code,
        name=name,
        name_zh=name_zh,
        order=order,
        probability=probability,
        kind=Stage.Kind.OPEN,
    )
    stage.full_clean()
    stage.save()
    return stage
