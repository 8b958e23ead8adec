"""Deal pages: list, the board, the deal page, edits, moves and won/lost."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.visibility import Access, access_for, get_for_user
from clients.models import Client
from pipeline.forms.common import apply_errors
from pipeline.forms.deals import (
    DealFilterForm,
    DealForm,
    LostForm,
    MoveForm,
    ReopenForm,
    WonForm,
)
from pipeline.models import Activity, Deal, Lead, Stage
from pipeline.services import deals as services
from pipeline.views.delivery_common import deal_documents
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate
from salesorg.lib.sql import union_all

DEAL_SORT = {
    "title": "title",
    "client": "client__name",
    "amount": "amount",
    "stage": "stage__order",
    "probability": "probability",
    "expected_close": "expected_close_date",
    "owner": ("owner__last_name", "owner__username"),
    "updated": "updated_at",
}


def _deal_access(request: HttpRequest, pk: int, *, change: bool = False) -> Access[Deal]:
    """404 for missing and not-yours alike; 403 when visible but not changeable."""
    access = get_for_user(
        request.user, Deal.objects.select_related("stage", "client", "owner"), pk=pk
    )
    if change and not (request.user.has_perm("pipeline.change_deal") and access.can_change):
        raise PermissionDenied
    return access


def filter_deals(user: User, qs: QuerySet[Deal], f: dict[str, Any]) -> QuerySet[Deal]:
    """Apply the list/board filters (already parsed by ``DealFilterForm``)."""
    if q := (f.get("q") or "").strip():
        qs = qs.filter(Q(title__icontains=q) | Q(client__name__icontains=q))
    scope = f.get("scope")
    if scope == "mine":
        qs = qs.filter(owner=user)
    elif scope == "team":
        if user.team_id:
            qs = qs.filter(owner__team__path__startswith=user.team.path)
        else:
            qs = qs.filter(owner=user)
    for key in ("owner", "stage", "client"):
        if key in f:
            qs = qs.filter(**{key: f[key]})
    state = f.get("state")
    if state in (Stage.Kind.OPEN, Stage.Kind.WON, Stage.Kind.LOST):
        qs = qs.filter(stage__kind=state)
    if "close_from" in f:
        qs = qs.filter(expected_close_date__gte=f["close_from"])
    if "close_to" in f:
        qs = qs.filter(expected_close_date__lte=f["close_to"])
    if "amount_min" in f:
        qs = qs.filter(amount__gte=f["amount_min"])
    if "amount_max" in f:
        qs = qs.filter(amount__lte=f["amount_max"])
    return qs


# -------------------------------------------------------------------------- list
@login_required
@require_GET
def deal_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_perm("pipeline.view_deal"):
        raise PermissionDenied
    form = DealFilterForm(request.GET or None, user=user)
    qs = filter_deals(
        user,
        Deal.objects.visible_to(user).select_related("client", "owner", "stage"),
        form.values(),
    )
    qs, sort = apply_sort(request, qs, DEAL_SORT, "-updated")
    if request.GET.get("export") == "csv":
        return csv_response(
            "deals",
            [
                _("Title"),
                _("Client"),
                _("Stage"),
                _("Amount"),
                _("Currency"),
                _("Probability (%)"),
                _("Weighted amount"),
                _("Expected close"),
                _("Closed on"),
                _("Owner"),
                _("Next step"),
                _("Reason lost"),
                _("Competitor"),
                _("Created"),
            ],
            (
                (
                    d.title,
                    d.client.name,
                    d.stage.label,
                    d.amount,
                    d.currency,
                    d.probability,
                    d.weighted_amount,
                    d.expected_close_date or "",
                    d.closed_on or "",
                    str(d.owner),
                    d.next_step,
                    d.lost_reason,
                    d.competitor,
                    d.created_at.isoformat(),
                )
                for d in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/deals/list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "filters": form,
            "can_create": user.has_perm("pipeline.add_deal"),
        },
    )


# ------------------------------------------------------------------------- board
def _board_context(request: HttpRequest) -> dict[str, Any]:
    """Columns of active open stages with SQL counts and sums, and each column's first cards.

    Three queries whatever the data size: the stages, one GROUP BY for the
    totals, and one UNION ALL of per-stage ``LIMIT`` queries for the cards
    (each served by an index, so a director's board with 100,000 deals
    costs the same as a rep's). On SQLite, which takes no ``LIMIT`` inside a
    UNION, the cards cost one small query per stage instead (``union_all``).
    """
    user = request.user
    form = DealFilterForm(request.GET or None, user=user)
    f = form.values()
    f.pop("state", None)
    f.pop("stage", None)
    stages = services.open_stages()
    base = filter_deals(
        user, Deal.objects.visible_to(user).filter(stage__in=[s.pk for s in stages]), f
    )
    cny = settings.DEFAULT_CURRENCY
    totals = {
        row["stage"]: row
        for row in base.order_by()
        .values("stage")
        .annotate(
            count=Count("pk"),
            total=Sum("amount", filter=Q(currency=cny)),
            weighted=Sum(F("amount") * F("probability") / 100, filter=Q(currency=cny)),
            other_currency=Count("pk", filter=~Q(currency=cny)),
        )
    }
    per_stage = settings.SALESORG_BOARD_CARDS_PER_STAGE
    parts = [
        base.filter(stage=stage)
        .select_related("client", "owner")
        .order_by(F("expected_close_date").asc(nulls_last=True), "pk")[:per_stage]
        for stage in stages
    ]
    cards: dict[int, list[Deal]] = defaultdict(list)
    for deal in union_all(parts):
        cards[deal.stage_id].append(deal)
    closing = list(Stage.objects.filter(is_active=True).exclude(kind=Stage.Kind.OPEN))
    may_move = user.has_perm("pipeline.move_deal")
    columns = []
    for stage in stages:
        row = totals.get(stage.pk, {})
        column_cards = sorted(
            cards.get(stage.pk, []),
            key=lambda d: (d.expected_close_date is None, d.expected_close_date, d.pk),
        )
        for deal in column_cards:
            deal.stage = stage  # same object for every card: no lazy loads
            deal.movable = may_move and access_for(user, deal).can_change
        columns.append(
            {
                "stage": stage,
                "count": row.get("count", 0),
                "total": row.get("total") or Decimal("0"),
                "weighted": row.get("weighted") or Decimal("0"),
                "other_currency": row.get("other_currency", 0),
                "cards": column_cards,
                "more": row.get("count", 0) - len(column_cards),
            }
        )
    return {
        "columns": columns,
        "stages": stages,
        "closing_stages": closing,
        "filters": form,
        "query": request.GET.urlencode(),
        "can_manage_stages": user.has_perm("pipeline.change_stage"),
    }


@login_required
@require_GET
def deal_board(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("pipeline.view_deal"):
        raise PermissionDenied
    context = _board_context(request)
    template = "pipeline/deals/_board.html" if request.htmx else "pipeline/deals/board.html"
    return render(request, template, context)


def _board_response(
    request: HttpRequest,
    *,
    status: int = 200,
    notice: str = "",
    notice_level: str = "success",
    expanded: dict[str, Any] | None = None,
) -> HttpResponse:
    context = _board_context(request)
    context.update({"notice": notice, "notice_level": notice_level, "expanded": expanded})
    return render(request, "pipeline/deals/_board.html", context, status=status)


@login_required
@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage: from a board card (htmx) or the deal page.

    Moving to won or lost first asks for what that needs (close date and
    final amount; a reason), in place on the card.
    """
    access = _deal_access(request, pk)
    deal = access.obj
    if not services.can_move(request.user, deal):
        raise PermissionDenied
    form = MoveForm(request.POST)
    htmx = bool(request.htmx)
    if not form.is_valid():
        if htmx:
            return _board_response(
                request, status=422, notice=_("Choose a stage."), notice_level="danger"
            )
        messages.error(request, _("Choose a stage."))
        return redirect("pipeline:deal-detail", pk=deal.pk)
    stage: Stage = form.cleaned_data["stage"]
    version = form.cleaned_data["version"]
    if stage.kind != Stage.Kind.OPEN and stage.pk != deal.stage_id:
        outcome = WonForm if stage.kind == Stage.Kind.WON else LostForm
        closing_form = outcome(
            request.POST if "outcome" in request.POST else None,
            deal=deal,
            initial=None if "outcome" in request.POST else _outcome_initial(deal, version),
        )
        if "outcome" in request.POST and closing_form.is_valid():
            return _close(request, deal, stage, closing_form, htmx=htmx)
        if htmx:
            return _board_response(
                request,
                expanded={"deal": deal.pk, "stage": stage, "form": closing_form},
                status=422 if closing_form.is_bound else 200,
            )
        url = "pipeline:deal-won" if stage.kind == Stage.Kind.WON else "pipeline:deal-lost"
        return redirect(url, pk=deal.pk)
    try:
        deal = services.deal_move(by=request.user, deal=deal, stage=stage, expected_version=version)
    except StaleWrite:
        return _conflict(request, deal, htmx=htmx)
    except ValidationError as exc:
        if htmx:
            return _board_response(
                request, status=422, notice=" ".join(exc.messages), notice_level="danger"
            )
        messages.error(request, " ".join(exc.messages))
        return redirect("pipeline:deal-detail", pk=deal.pk)
    notice = _("“%(deal)s” moved to %(stage)s.") % {"deal": deal, "stage": stage.label}
    if htmx:
        return _board_response(request, notice=notice)
    messages.success(request, notice)
    return redirect("pipeline:deal-detail", pk=deal.pk)


def _outcome_initial(deal: Deal, version: int) -> dict[str, Any]:
    return {
        "closed_on": timezone.localdate(),
        "amount": deal.amount,
        "competitor": deal.competitor,
        "version": version,
    }


def _conflict(request: HttpRequest, deal: Deal, *, htmx: bool) -> HttpResponse:
    notice = _(
        "Someone else changed “%(deal)s” after you opened it; it is shown as it is now. "
        "Move it again if you still want to."
    ) % {"deal": deal}
    if htmx:
        return _board_response(request, status=409, notice=notice, notice_level="warning")
    messages.warning(request, notice)
    return redirect("pipeline:deal-detail", pk=deal.pk)


def _close(
    request: HttpRequest, deal: Deal, stage: Stage, form: WonForm | LostForm, *, htmx: bool
) -> HttpResponse:
    """Apply a valid won/lost form; on a conflict or a rule broken, say so."""
    data = form.cleaned_data
    try:
        if stage.kind == Stage.Kind.WON:
            deal = services.deal_move(
                by=request.user,
                deal=deal,
                stage=stage,
                expected_version=data["version"],
                closed_on=data["closed_on"],
                amount=data["amount"],
            )
            notice = _("“%(deal)s” is won.") % {"deal": deal}
        else:
            deal = services.deal_move(
                by=request.user,
                deal=deal,
                stage=stage,
                expected_version=data["version"],
                lost_reason=data["lost_reason"],
                competitor=data.get("competitor", ""),
            )
            notice = _("“%(deal)s” is lost.") % {"deal": deal}
    except StaleWrite:
        return _conflict(request, deal, htmx=htmx)
    except ValidationError as exc:
        apply_errors(form, exc)
        if htmx:
            return _board_response(
                request, status=422, expanded={"deal": deal.pk, "stage": stage, "form": form}
            )
        template = (
            "pipeline/deals/won.html"
            if stage.kind == Stage.Kind.WON
            else "pipeline/deals/lost.html"
        )
        return render(request, template, {"deal": deal, "form": form}, status=422)
    if htmx:
        return _board_response(request, notice=notice)
    messages.success(request, notice)
    return redirect("pipeline:deal-detail", pk=deal.pk)


@login_required
@require_http_methods(["GET", "POST"])
def deal_won(request: HttpRequest, pk: int) -> HttpResponse:
    return _closing_page(request, pk, Stage.Kind.WON)


@login_required
@require_http_methods(["GET", "POST"])
def deal_lost(request: HttpRequest, pk: int) -> HttpResponse:
    return _closing_page(request, pk, Stage.Kind.LOST)


def _closing_page(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    deal = _deal_access(request, pk).obj
    if not services.can_move(request.user, deal):
        raise PermissionDenied
    try:
        stage = services.closing_stage(kind)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("pipeline:deal-detail", pk=deal.pk)
    form_class = WonForm if kind == Stage.Kind.WON else LostForm
    form = form_class(request.POST or None, deal=deal)
    if request.method == "POST" and form.is_valid():
        return _close(request, deal, stage, form, htmx=False)
    template = "pipeline/deals/won.html" if kind == Stage.Kind.WON else "pipeline/deals/lost.html"
    return render(request, template, {"deal": deal, "form": form})


@login_required
@require_POST
def deal_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_access(request, pk).obj
    if not services.can_move(request.user, deal):
        raise PermissionDenied
    form = ReopenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the stage to reopen the deal in."))
        return redirect("pipeline:deal-detail", pk=deal.pk)
    try:
        deal = services.deal_reopen(
            by=request.user,
            deal=deal,
            stage=form.cleaned_data.get("stage"),
            expected_version=form.cleaned_data["version"],
        )
    except StaleWrite:
        messages.warning(request, str(StaleWrite.message))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("“%(deal)s” is open again, in %(stage)s.") % {"deal": deal, "stage": deal.stage},
        )
    return redirect("pipeline:deal-detail", pk=deal.pk)


# ---------------------------------------------------------------------- the deal
@login_required
@require_GET
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = _deal_access(request, pk)
    deal = access.obj
    user = request.user
    can_change = user.has_perm("pipeline.change_deal") and access.can_change
    can_move = user.has_perm("pipeline.move_deal") and access.can_change
    stages = list(Stage.objects.filter(is_active=True).order_by("order"))
    return render(
        request,
        "pipeline/deals/detail.html",
        {
            "deal": deal,
            "can_change": can_change,
            "can_move": can_move,
            "can_delete": user.has_perm("pipeline.delete_deal") and access.can_delete,
            "open_stages": [s for s in stages if s.kind == Stage.Kind.OPEN],
            "won_stage": next((s for s in stages if s.kind == Stage.Kind.WON), None),
            "lost_stage": next((s for s in stages if s.kind == Stage.Kind.LOST), None),
            "reopen_form": ReopenForm(initial={"version": deal.version}),
            "changes": deal.stage_changes.select_related(
                "from_stage", "to_stage", "changed_by"
            ).order_by("changed_at", "pk")[:200],
            "products": deal.products.order_by("name"),
            "activities": Activity.objects.visible_to(user)
            .filter(deal=deal)
            .select_related("owner")
            .order_by("-start_at")[:20],
            **deal_documents(deal, user),
            "source_lead": Lead.objects.visible_to(user).filter(converted_deal=deal).first(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.has_perm("pipeline.add_deal"):
        raise PermissionDenied
    initial: dict[str, Any] = {"currency": settings.DEFAULT_CURRENCY}
    client_id = request.GET.get("client")
    if client_id and client_id.isdigit():
        initial["client"] = client_id
    form = DealForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.changes()
        try:
            deal = services.deal_create(
                by=user,
                client=data.pop("client"),
                title=data.pop("title"),
                owner=data.pop("owner", None),
                **data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Deal “%(deal)s” was added.") % {"deal": deal})
            return redirect("pipeline:deal-detail", pk=deal.pk)
    return render(request, "pipeline/deals/form.html", {"form": form, "deal": None})


@login_required
@require_http_methods(["GET", "POST"])
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_access(request, pk, change=True).obj
    form = DealForm(request.POST or None, instance=deal, user=request.user)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        expected = form.cleaned_data.get("version")
        if "probability" not in changes:
            changes["probability"] = deal.stage.probability
        try:
            deal = services.deal_update(
                by=request.user, deal=deal, expected_version=expected, **changes
            )
        except StaleWrite:
            form.add_error(None, str(StaleWrite.message))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Deal “%(deal)s” was saved.") % {"deal": deal})
            return redirect("pipeline:deal-detail", pk=deal.pk)
    return render(request, "pipeline/deals/form.html", {"form": form, "deal": deal})


@login_required
@require_GET
def client_options(request: HttpRequest) -> HttpResponse:
    """Clients matching what is typed, among those the user sees (the client picker)."""
    if not request.user.has_perm("clients.view_client"):
        raise PermissionDenied
    q = (request.GET.get("client_search") or request.GET.get("q") or "").strip()
    clients = Client.objects.none()
    if q:
        clients = (
            Client.objects.visible_to(request.user)
            .filter(Q(name__icontains=q) | Q(name_normalized__startswith=q.lower()))
            .order_by("name", "pk")[:15]
        )
    return render(
        request,
        "pipeline/widgets/_client_options.html",
        {"clients": clients, "q": q},
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_delete(request: HttpRequest, pk: int) -> HttpResponse:
    access = _deal_access(request, pk)
    deal = access.obj
    if not (request.user.has_perm("pipeline.delete_deal") and access.can_delete):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.deal_delete(by=request.user, deal=deal)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("pipeline:deal-detail", pk=deal.pk)
        messages.success(request, _("Deal “%(deal)s” was deleted.") % {"deal": deal})
        return redirect("pipeline:deal-list")
    return render(
        request,
        "pipeline/confirm_delete.html",
        {"object": deal, "cancel_url": deal.get_absolute_url()},
    )
