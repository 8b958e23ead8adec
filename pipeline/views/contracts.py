"""Contract pages: the list, the renewals list, a contract with its workflow, files,
renewal chain and history, and the create / edit / renew forms."""

from __future__ import annotations

import os
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.visibility import get_for_user
from pipeline.models import Contract, ContractFile, ContractStatus, Stage
from pipeline.services import contracts as service
from pipeline.views.contract_forms import ContractFileForm, ContractForm, RenewForm
from pipeline.views.delivery_common import (
    apply_errors,
    fetch,
    fetch_deal,
    history_rows,
    posted_version,
    require_perm,
    run_action,
)
from pipeline.views.quotes import pick_deal
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

CONTRACT_SORT = {
    "number": "number",
    "client": "client__name",
    "owner": ("owner__last_name", "owner__username"),
    "amount": "amount",
    "start": "start_date",
    "end": "end_date",
    "status": "status",
    "signed": "signed_on",
}
ENDING_CHOICES = (30, 60, 90)


def _contract_qs(user) -> QuerySet[Contract]:
    return Contract.objects.visible_to(user).select_related("client", "owner", "deal")


def _ending_days(request: HttpRequest, default: int | None) -> int | None:
    raw = request.GET.get("ending", "")
    return int(raw) if raw.isdigit() and int(raw) in ENDING_CHOICES else default


# ------------------------------------------------------------------------ lists
def _filtered(request: HttpRequest) -> QuerySet[Contract]:
    qs = _contract_qs(request.user)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(client__name__icontains=q)
        )
    status = request.GET.get("status")
    if status in ContractStatus.values:
        qs = qs.filter(status=status)
    if request.GET.get("mine") == "1":
        qs = qs.filter(Q(owner=request.user) | Q(client__account_manager=request.user))
    days = _ending_days(request, None)
    if days:
        qs = service.ending_within(qs, days)
    return qs


@login_required
@require_GET
def contract_list(request: HttpRequest) -> HttpResponse:
    require_perm(request.user, "pipeline.view_contract")
    qs, sort = apply_sort(request, _filtered(request), CONTRACT_SORT, "-start")
    if request.GET.get("export") == "csv":
        return csv_response(
            "contracts",
            [
                _("Number"),
                _("Title"),
                _("Client"),
                _("Owner"),
                _("Status"),
                _("Amount"),
                _("Currency"),
                _("Start"),
                _("End"),
                _("Signed on"),
                _("Payment terms"),
                _("Renews"),
            ],
            (
                (
                    c.number,
                    c.title,
                    c.client.name,
                    str(c.owner),
                    c.get_status_display(),
                    c.amount,
                    c.currency,
                    c.start_date,
                    c.end_date,
                    c.signed_on,
                    c.payment_terms,
                    c.renews.number if c.renews_id else "",
                )
                for c in qs.select_related("renews").iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/contracts/list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "statuses": ContractStatus.choices,
            "ending_choices": ENDING_CHOICES,
            "ending": _ending_days(request, None),
            "can_create": request.user.has_perm("pipeline.add_contract"),
        },
    )


@login_required
@require_GET
def renewal_list(request: HttpRequest) -> HttpResponse:
    """Contracts ending in the next 90 / 60 / 30 days, with any renewal already started."""
    require_perm(request.user, "pipeline.view_contract")
    days = _ending_days(request, 90) or 90
    today = timezone.localdate()
    renewing = Contract.objects.filter(renews=OuterRef("pk")).exclude(
        status=ContractStatus.TERMINATED
    )
    base = _contract_qs(request.user)
    if request.GET.get("mine") == "1":
        base = base.filter(Q(owner=request.user) | Q(client__account_manager=request.user))
    qs = (
        service.ending_within(base, days, today=today)
        .annotate(renewal_started=Exists(renewing))
        .order_by("end_date", "pk")
    )
    rate = service.renewal_rate(
        Contract.objects.visible_to(request.user), start=today - timedelta(days=365), end=today
    )
    if request.GET.get("export") == "csv":
        return csv_response(
            "renewals",
            [_("Number"), _("Client"), _("Owner"), _("Amount"), _("End"), _("Renewal started")],
            (
                (
                    c.number,
                    c.client.name,
                    str(c.owner),
                    c.amount,
                    c.end_date,
                    _("yes") if c.renewal_started else _("no"),
                )
                for c in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/contracts/renewals.html",
        {
            "page": paginate(request, qs),
            "days": days,
            "ending_choices": ENDING_CHOICES,
            "today": today,
            "rate": rate,
            "rate_percent": round(rate.rate * 100) if rate.rate is not None else None,
            "can_renew": request.user.has_perm("pipeline.add_contract"),
        },
    )


# ----------------------------------------------------------------------- detail
HISTORY_FIELDS = (
    "status",
    "title",
    "amount",
    "start_date",
    "end_date",
    "signed_on",
    "payment_terms",
)


@login_required
@require_GET
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(
        request,
        Contract.objects.select_related(
            "client", "owner", "deal", "renews", "client__account_manager"
        ),
        pk,
    )
    contract = access.obj
    user = request.user
    renewals = list(contract.renewals.visible_to(user).order_by("-start_date"))
    files = list(contract.files.select_related("uploaded_by"))
    history = list(contract.history.select_related("history_user")[:50])
    return render(
        request,
        "pipeline/contracts/detail.html",
        {
            "contract": contract,
            "access": access,
            "transitions": [
                (s, ContractStatus(s).label) for s in service.allowed_transitions(contract)
            ]
            if access.can_change
            else [],
            "editable": access.can_change and contract.status in service.EDITABLE_STATUSES,
            "can_renew": access.can_change
            and user.has_perm("pipeline.add_contract")
            and contract.status in service.RENEWABLE_STATUSES
            and not any(r.status != ContractStatus.TERMINATED for r in renewals),
            "can_delete": access.can_delete and contract.status == ContractStatus.DRAFT,
            "renewals": renewals,
            "files": files,
            "can_upload": user.has_perm("pipeline.add_contractfile"),
            "can_delete_files": access.can_change and user.has_perm("pipeline.delete_contractfile"),
            "file_form": ContractFileForm(),
            "projects": contract.projects.visible_to(user).select_related("owner")[:20],
            "history": history_rows(history, HISTORY_FIELDS),
            "workflow": [
                (s, ContractStatus(s).label)
                for s in (
                    ContractStatus.DRAFT,
                    ContractStatus.LEGAL_REVIEW,
                    ContractStatus.APPROVED,
                    ContractStatus.SIGNED,
                    ContractStatus.ACTIVE,
                )
            ],
        },
    )


# ------------------------------------------------------------------- create/edit
@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request: HttpRequest, deal_pk: int) -> HttpResponse:
    require_perm(request.user, "pipeline.add_contract")
    deal = fetch_deal(request, deal_pk).obj
    if deal.stage.kind != Stage.Kind.WON:
        messages.error(request, _("A contract is made from a won deal; this deal is not won yet."))
        return redirect("pipeline:contract-list")
    instance = Contract(client=deal.client, deal=deal, owner=service.default_owner(deal))
    today = timezone.localdate()
    initial = {
        "title": deal.title,
        "amount": deal.amount,
        "currency": deal.currency,
        "start_date": today,
        "end_date": today.replace(year=today.year + 1) - timedelta(days=1)
        if not (today.month == 2 and today.day == 29)
        else today + timedelta(days=364),
    }
    form = ContractForm(request.POST or None, instance=instance, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contract = service.contract_create_from_deal(deal=deal, by=request.user, **form.terms())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Contract %(number)s was created.") % {"number": contract.number}
            )
            return redirect(contract.get_absolute_url())
    return render(
        request,
        "pipeline/contracts/form.html",
        {"form": form, "deal": deal, "contract": None, "owner": instance.owner},
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = fetch(request, _contract_qs(request.user), pk, change=True).obj
    if contract.status not in service.EDITABLE_STATUSES:
        messages.error(
            request,
            _("The terms of a contract that is “%(status)s” cannot change.")
            % {"status": contract.get_status_display()},
        )
        return redirect(contract.get_absolute_url())
    form = ContractForm(request.POST or None, instance=contract)
    if request.method == "POST" and form.is_valid():
        try:
            service.contract_update(
                contract=contract,
                by=request.user,
                expected_version=form.cleaned_data.get("version"),
                **form.terms(),
            )
        except (ValidationError, StaleWrite) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The contract was saved."))
            return redirect(contract.get_absolute_url())
    return render(
        request,
        "pipeline/contracts/form.html",
        {"form": form, "deal": contract.deal, "contract": contract, "owner": contract.owner},
    )


@login_required
@require_POST
def contract_transition(request: HttpRequest, pk: int) -> HttpResponse:
    contract = fetch(request, _contract_qs(request.user), pk, change=True).obj
    to_status = request.POST.get("status", "")
    label = ContractStatus(to_status).label if to_status in ContractStatus.values else to_status
    return run_action(
        request,
        lambda: service.contract_transition(
            contract=contract,
            to_status=to_status,
            by=request.user,
            expected_version=posted_version(request),
        ),
        success=_("The contract is now “%(status)s”.") % {"status": label},
        to=contract.get_absolute_url(),
    )


@login_required
@require_POST
def contract_delete(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(request, _contract_qs(request.user), pk)
    if not access.can_delete:
        raise PermissionDenied
    contract = access.obj
    try:
        service.contract_delete(contract=contract, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(contract.get_absolute_url())
    messages.success(request, _("The contract was deleted."))
    return redirect("pipeline:contract-list")


@login_required
@require_http_methods(["GET", "POST"])
def contract_renew(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "pipeline.add_contract")
    contract = fetch(request, _contract_qs(request.user), pk, change=True).obj
    start = contract.end_date + timedelta(days=1)
    initial = {
        "start_date": start,
        "end_date": start + (contract.end_date - contract.start_date),
        "amount": contract.amount,
        "payment_terms": contract.payment_terms,
    }
    form = RenewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            renewal = service.contract_renew(
                contract=contract, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Renewal %(number)s was drafted; %(old)s becomes “renewed” when it is signed.")
                % {"number": renewal.number, "old": contract.number},
            )
            return redirect(renewal.get_absolute_url())
    return render(request, "pipeline/contracts/renew.html", {"form": form, "contract": contract})


@login_required
@require_GET
def contract_new(request: HttpRequest) -> HttpResponse:
    return pick_deal(
        request,
        perm="pipeline.add_contract",
        won_only=True,
        title=_("New contract: choose the won deal"),
        target="pipeline:contract-create",
    )


# ------------------------------------------------------------------------ files
@login_required
@require_POST
def contract_file_upload(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request.user, "pipeline.add_contractfile")
    contract = fetch(request, _contract_qs(request.user), pk).obj
    form = ContractFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            service.contract_attach_file(
                contract=contract,
                by=request.user,
                file=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The file was attached."))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(contract.get_absolute_url())


def _visible_file(request: HttpRequest, pk: int) -> ContractFile:
    return get_for_user(
        request.user, ContractFile.objects.select_related("contract__client"), pk=pk
    ).obj


@login_required
@require_GET
def contract_file_download(request: HttpRequest, pk: int) -> FileResponse:
    """Files are served through this view, never from a public URL, so visibility applies."""
    contract_file = _visible_file(request, pk)
    try:
        handle = contract_file.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    return FileResponse(
        handle, as_attachment=True, filename=os.path.basename(contract_file.file.name)
    )


@login_required
@require_POST
def contract_file_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contract_file = _visible_file(request, pk)
    contract = contract_file.contract
    if not get_for_user(request.user, Contract, pk=contract.pk).can_change:
        raise PermissionDenied
    service.contract_file_delete(contract_file=contract_file, by=request.user)
    messages.success(request, _("The file was removed."))
    return redirect(contract.get_absolute_url())
