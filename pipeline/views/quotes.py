"""Quote pages: the list, a quote with its lines and approval, the editor, the
printable quote and the manager's list of discounts waiting for them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pipeline.models import Deal, Quote, QuoteApproval, Stage
from pipeline.services import quotes as service
from pipeline.views.delivery_common import (
    apply_errors,
    fetch,
    fetch_deal,
    history_rows,
    posted_version,
    require_perm,
    run_action,
)
from pipeline.views.quote_forms import (
    ApprovalRequestForm,
    DecisionForm,
    QuoteForm,
    QuoteLineFormSet,
    catalogue,
    initial_lines,
)
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

QUOTE_SORT = {
    "number": ("number", "revision"),
    "client": "deal__client__name",
    "deal": "deal__title",
    "status": "status",
    "total": "total",
    "valid_until": "valid_until",
    "created": "created_at",
}


def _quote_qs(user) -> QuerySet[Quote]:
    return Quote.objects.visible_to(user).select_related(
        "deal__client", "deal__owner", "created_by"
    )


# ------------------------------------------------------------------------ list
def _filtered(request: HttpRequest) -> QuerySet[Quote]:
    qs = _quote_qs(request.user)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(deal__title__icontains=q)
            | Q(deal__client__name__icontains=q)
        )
    status = request.GET.get("status")
    if status in Quote.Status.values:
        qs = qs.filter(status=status)
    approval = request.GET.get("approval")
    if approval in Quote.Approval.values:
        qs = qs.filter(approval=approval)
    if request.GET.get("mine") == "1":
        qs = qs.filter(deal__owner=request.user)
    if request.GET.get("revisions") != "all":
        qs = service.latest_revisions(qs)
    return qs


@login_required
@require_GET
def quote_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "pipeline.view_quote")
    qs, sort = apply_sort(request, _filtered(request), QUOTE_SORT, "-created")
    if request.GET.get("export") == "csv":
        return csv_response(
            "quotes",
            [
                _("Number"),
                _("Revision"),
                _("Client"),
                _("Deal"),
                _("Deal owner"),
                _("Status"),
                _("Discount approval"),
                _("Largest discount (%)"),
                _("Subtotal"),
                _("Discount"),
                _("Tax"),
                _("Total"),
                _("Currency"),
                _("Valid until"),
                _("Created"),
            ],
            (
                (
                    q.number,
                    q.revision,
                    q.deal.client.name,
                    q.deal.title,
                    str(q.deal.owner),
                    q.get_status_display(),
                    q.get_approval_display(),
                    q.max_discount_percent,
                    q.subtotal,
                    q.discount_total,
                    q.tax_amount,
                    q.total,
                    q.currency,
                    q.valid_until,
                    q.created_at.date(),
                )
                for q in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/quotes/list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "statuses": Quote.Status.choices,
            "approvals": Quote.Approval.choices,
            "can_create": request.user.has_perm("pipeline.add_quote"),
        },
    )


# ----------------------------------------------------------------------- detail
def _decorated_lines(quote: Quote) -> list[dict[str, Any]]:
    rows = []
    for line in quote.lines.select_related("product"):
        amounts = service.line_amounts(line.quantity, line.unit_price, line.discount_percent)
        rows.append({"line": line, "amounts": amounts})
    return rows


@login_required
@require_GET
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(request, _quote_qs(request.user), pk)
    quote = access.obj
    user = request.user
    lines = _decorated_lines(quote)
    revisions = list(
        Quote.objects.visible_to(user)
        .filter(number=quote.number)
        .order_by("revision")
        .only("pk", "number", "revision", "status", "total", "currency", "created_at")
    )
    latest = not any(r.revision > quote.revision for r in revisions)
    approvals = list(quote.approvals.select_related("approver", "requested_by"))
    pending = next((a for a in approvals if a.decision == QuoteApproval.Decision.PENDING), None)
    may_change = access.can_change
    editable = may_change and not service.editable_reason(quote, latest=latest)
    history = list(quote.history.select_related("history_user")[:30])
    return render(
        request,
        "pipeline/quotes/detail.html",
        {
            "quote": quote,
            "access": access,
            "lines": lines,
            "revisions": revisions,
            "latest": latest,
            "approvals": approvals,
            "pending": pending,
            "may_decide": pending is not None and service.may_decide(pending, user),
            "editable": editable,
            "not_editable_reason": service.editable_reason(quote, latest=latest),
            "can_request": may_change
            and latest
            and quote.status == Quote.Status.DRAFT
            and quote.approval in (Quote.Approval.REQUIRED, Quote.Approval.REJECTED)
            and user.has_perm("pipeline.add_quoteapproval"),
            "send_blocker": service.send_blocker(quote, has_lines=bool(lines))
            if quote.status == Quote.Status.DRAFT
            else "",
            "can_send": may_change and latest and quote.status == Quote.Status.DRAFT,
            "can_answer": may_change and quote.status == Quote.Status.SENT,
            "can_revise": may_change
            and latest
            and quote.status != Quote.Status.ACCEPTED
            and user.has_perm("pipeline.add_quote"),
            "can_delete": access.can_delete and quote.status == Quote.Status.DRAFT,
            "threshold": service.discount_threshold(),
            "decision_form": DecisionForm(),
            "request_form": ApprovalRequestForm(),
            "history": history_rows(
                history,
                ("status", "approval", "total", "max_discount_percent", "valid_until", "tax_rate"),
            ),
        },
    )


# ------------------------------------------------------------------- create/edit
def _editor(request: HttpRequest, *, deal: Deal, quote: Quote | None) -> HttpResponse:
    products = catalogue()
    prefix = "lines"
    if request.method == "POST":
        form = QuoteForm(request.POST, instance=quote or Quote(deal=deal))
        formset = QuoteLineFormSet(request.POST, prefix=prefix, products=products)
        if form.is_valid() and formset.is_valid():
            try:
                if quote is None:
                    saved = service.quote_create(
                        deal=deal, by=request.user, lines=formset.lines(), **form.header()
                    )
                    messages.success(request, _("Quote %(quote)s was created.") % {"quote": saved})
                else:
                    saved = service.quote_update(
                        quote=quote,
                        by=request.user,
                        expected_version=form.cleaned_data.get("version"),
                        lines=formset.lines(),
                        **form.header(),
                    )
                    messages.success(request, _("Quote %(quote)s was saved.") % {"quote": saved})
            except (ValidationError, StaleWrite) as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    line_errors = exc.error_dict.pop("lines", None)
                    if line_errors:
                        form.add_error(None, line_errors)
                    if exc.error_dict:
                        apply_errors(form, exc)
                else:
                    apply_errors(form, exc)
            else:
                if saved.approval == Quote.Approval.REQUIRED:
                    messages.warning(
                        request,
                        _(
                            "A discount is above %(threshold)s%%: ask for approval before "
                            "sending the quote."
                        )
                        % {"threshold": service.discount_threshold()},
                    )
                return redirect(saved.get_absolute_url())
    else:
        if quote is None:
            valid_until = timezone.localdate() + timedelta(
                days=settings.SALESORG_QUOTE_VALIDITY_DAYS
            )
            form = QuoteForm(
                instance=Quote(deal=deal, currency=deal.currency, valid_until=valid_until)
            )
            formset = QuoteLineFormSet(prefix=prefix, products=products)
        else:
            form = QuoteForm(instance=quote)
            formset = QuoteLineFormSet(
                prefix=prefix, products=products, initial=initial_lines(quote)
            )
    return render(
        request,
        "pipeline/quotes/form.html",
        {
            "form": form,
            "formset": formset,
            "deal": deal,
            "quote": quote,
            "threshold": service.discount_threshold(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def quote_create(request: HttpRequest, deal_pk: int) -> HttpResponse:
    require_perm(request.user, "pipeline.add_quote")
    deal = fetch_deal(request, deal_pk).obj
    if deal.stage.kind == Stage.Kind.LOST:
        messages.error(request, _("A lost deal gets no new quotes."))
        return redirect("pipeline:quote-list")
    return _editor(request, deal=deal, quote=None)


@login_required
@require_http_methods(["GET", "POST"])
def quote_edit(request: HttpRequest, pk: int) -> HttpResponse:
    quote = fetch(request, _quote_qs(request.user), pk, change=True).obj
    reason = service.editable_reason(quote)
    if reason:
        messages.error(request, reason)
        return redirect(quote.get_absolute_url())
    return _editor(request, deal=quote.deal, quote=quote)


# ---------------------------------------------------------------------- actions
@login_required
@require_POST
def quote_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """The workflow buttons of the quote page, each one service call."""
    user = request.user
    if action in ("approve", "reject"):
        quote = fetch(request, _quote_qs(user), pk).obj
    elif action == "delete":
        access = fetch(request, _quote_qs(user), pk)
        if not access.can_delete:
            raise PermissionDenied
        quote = access.obj
    else:
        quote = fetch(request, _quote_qs(user), pk, change=True).obj
    version = posted_version(request)
    to = quote.get_absolute_url()
    comment = request.POST.get("comment", "")
    steps = {
        "request-approval": (
            lambda: service.quote_request_approval(
                quote=quote, by=user, expected_version=version, note=request.POST.get("note", "")
            ),
            _("Approval was requested; the approver has been notified."),
        ),
        "approve": (
            lambda: service.quote_approve(quote=quote, by=user, comment=comment),
            _("The discount was approved."),
        ),
        "reject": (
            lambda: service.quote_reject(quote=quote, by=user, comment=comment),
            _("The discount was rejected."),
        ),
        "send": (
            lambda: service.quote_send(quote=quote, by=user, expected_version=version),
            _("The quote is marked as sent."),
        ),
        "accept": (
            lambda: service.quote_accept(quote=quote, by=user, expected_version=version),
            _("The quote is marked as accepted by the client."),
        ),
        "decline": (
            lambda: service.quote_decline(quote=quote, by=user, expected_version=version),
            _("The quote is marked as rejected by the client."),
        ),
        "expire": (
            lambda: service.quote_expire(quote=quote, by=user, expected_version=version),
            _("The quote is marked as expired."),
        ),
    }
    if action == "revise":
        try:
            new = service.quote_revise(quote=quote, by=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(to)
        messages.success(
            request, _("Revision %(revision)s was created.") % {"revision": new.revision}
        )
        return redirect(new.get_absolute_url())
    if action == "delete":
        try:
            service.quote_delete(quote=quote, by=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(to)
        messages.success(request, _("The quote was deleted."))
        return redirect("pipeline:quote-list")
    if action not in steps:
        raise Http404
    step, success = steps[action]
    return run_action(request, step, success=success, to=to)


# ------------------------------------------------------------------------ print
@login_required
@require_GET
def quote_print(request: HttpRequest, pk: int) -> HttpResponse:
    """A clean page to print or save as PDF, in English or Chinese (``?lang=``)."""
    quote = fetch(request, _quote_qs(request.user), pk).obj
    lang = request.GET.get("lang")
    languages = dict(settings.LANGUAGES)
    if lang not in languages:
        lang = translation.get_language()
    company = {
        "name": settings.SALESORG_COMPANY_NAME,
        "address": settings.SALESORG_COMPANY_ADDRESS,
        "phone": settings.SALESORG_COMPANY_PHONE,
        "email": settings.SALESORG_COMPANY_EMAIL,
    }
    with translation.override(lang):
        return render(
            request,
            "pipeline/quotes/print.html",
            {
                "quote": quote,
                "client": quote.deal.client,
                "lines": _decorated_lines(quote),
                "company": company,
                "print_lang": lang,
                "net": quote.subtotal - quote.discount_total,
            },
        )


# ---------------------------------------------------------------- approvals
@login_required
@require_GET
def approval_list(request: HttpRequest) -> HttpResponse:
    """Discount approvals waiting for me (or, with ``?show=decided``, those I decided)."""
    require_perm(request.user, "pipeline.approve_discount")
    show = "decided" if request.GET.get("show") == "decided" else "pending"
    qs = (
        QuoteApproval.objects.visible_to(request.user)
        .filter(approver=request.user)
        .select_related("quote__deal__client", "quote__deal__owner", "requested_by")
    )
    if show == "pending":
        qs = qs.filter(decision=QuoteApproval.Decision.PENDING).order_by("requested_at", "pk")
    else:
        qs = qs.exclude(decision=QuoteApproval.Decision.PENDING).order_by("-decided_at", "-pk")
    return render(
        request,
        "pipeline/quotes/approvals.html",
        {"page": paginate(request, qs), "show": show, "threshold": service.discount_threshold()},
    )


# ------------------------------------------------------------------ pick a deal
def pick_deal(
    request: HttpRequest, *, perm: str, won_only: bool, title: str, target: str
) -> HttpResponse:
    """Choose the deal a new quote, contract or project belongs to."""
    require_perm(request.user, perm)
    deal_pk = request.GET.get("deal", "")
    if deal_pk.isdigit():
        return redirect(reverse(target, args=[int(deal_pk)]))
    deals = Deal.objects.visible_to(request.user).select_related("client", "stage")
    deals = deals.filter(stage__kind=Stage.Kind.WON) if won_only else deals.open()
    q = request.GET.get("q", "").strip()
    if q:
        deals = deals.filter(Q(title__icontains=q) | Q(client__name__icontains=q))
    return render(
        request,
        "pipeline/quotes/pick_deal.html",
        {
            "deals": deals.order_by("-updated_at", "pk")[:50],
            "title": title,
            "won_only": won_only,
        },
    )


@login_required
@require_GET
def quote_new(request: HttpRequest) -> HttpResponse:
    return pick_deal(
        request,
        perm="pipeline.add_quote",
        won_only=False,
        title=_("New quote: choose the deal"),
        target="pipeline:quote-create",
    )
