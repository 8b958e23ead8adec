"""Lead pages: list, entry with a duplicate check, status, conversion and history."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.visibility import Access, get_for_user
from pipeline.forms.common import apply_errors
from pipeline.forms.leads import LeadConvertForm, LeadFilterForm, LeadForm, LeadStatusForm
from pipeline.models import Activity, Lead, LeadSource, LeadStatus
from pipeline.services import leads as services
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

LEAD_SORT = {
    "created": "created_at",
    "name": "name",
    "company": "company_normalized",
    "status": "status",
    "source": "source",
    "owner": ("owner__last_name", "owner__username"),
}


def _lead_access(request: HttpRequest, pk: int, *, change: bool = False) -> Access[Lead]:
    """404 for missing and not-yours alike; 403 when visible but not changeable."""
    access = get_for_user(
        request.user,
        Lead.objects.select_related(
            "owner", "event", "converted_client", "converted_deal", "converted_by"
        ),
        pk=pk,
    )
    if change and not (request.user.has_perm("pipeline.change_lead") and access.can_change):
        raise PermissionDenied
    return access


def filtered_leads(request: HttpRequest, form: LeadFilterForm) -> QuerySet[Lead]:
    qs = Lead.objects.visible_to(request.user).select_related("owner", "event")
    f = form.values()
    if q := (f.get("q") or "").strip():
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(company__icontains=q)
            | Q(email__icontains=q)
            | Q(phone__icontains=q)
        )
    for key in ("status", "source", "owner", "event"):
        if key in f:
            qs = qs.filter(**{key: f[key]})
    if "campaign" in f:
        qs = qs.filter(campaign__icontains=f["campaign"])
    if "created_from" in f:
        qs = qs.filter(created_at__date__gte=f["created_from"])
    if "created_to" in f:
        qs = qs.filter(created_at__date__lte=f["created_to"])
    return qs


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("pipeline.view_lead"):
        raise PermissionDenied
    form = LeadFilterForm(request.GET or None, user=request.user)
    qs, sort = apply_sort(request, filtered_leads(request, form), LEAD_SORT, "-created")
    if request.GET.get("export") == "csv":
        return csv_response(
            "leads",
            [
                _("Name"),
                _("Company"),
                _("Title"),
                _("Phone"),
                _("E-mail"),
                _("Source"),
                _("Campaign"),
                _("Event"),
                _("Status"),
                _("Reason for disqualifying"),
                _("Owner"),
                _("Created"),
            ],
            (
                (
                    lead.name,
                    lead.company,
                    lead.title,
                    lead.phone,
                    lead.email,
                    lead.get_source_display(),
                    lead.campaign,
                    str(lead.event or ""),
                    lead.get_status_display(),
                    lead.disqualified_reason,
                    str(lead.owner),
                    lead.created_at.isoformat(),
                )
                for lead in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "pipeline/leads/list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "filters": form,
            "can_create": request.user.has_perm("pipeline.add_lead"),
        },
    )


def _history(lead: Lead) -> list[dict[str, Any]]:
    """The lead's saved versions, newest first, each with what changed.

    Two queries whatever the length: the versions, then the names of the
    people the lead moved between.
    """
    records = list(lead.history.select_related("history_user").order_by("-history_date")[:50])
    labels = {f.name: f.verbose_name for f in Lead._meta.concrete_fields}
    displays: dict[str, dict[Any, Any]] = {
        "status": dict(LeadStatus.choices),
        "source": dict(LeadSource.choices),
    }
    shown_fields = set(services.LEAD_EDITABLE) | {"status", "disqualified_reason"}
    rows: list[dict[str, Any]] = []
    owner_ids: set[int] = set()
    for i, record in enumerate(records):
        changes = []
        older = records[i + 1] if i + 1 < len(records) else None
        if older is not None and record.history_type == "~":
            for change in record.diff_against(older).changes:
                if change.field not in shown_fields or change.field == "event":
                    continue
                if change.field == "owner":
                    owner_ids.update(v for v in (change.old, change.new) if v)
                changes.append({"field": change.field, "old": change.old, "new": change.new})
        rows.append({"record": record, "changes": changes})
    names = {pk: str(u) for pk, u in User.objects.in_bulk(owner_ids).items()} if owner_ids else {}
    displays["owner"] = names
    for row in rows:
        for change in row["changes"]:
            shown = displays.get(change["field"], {})
            change["old"] = shown.get(change["old"], change["old"])
            change["new"] = shown.get(change["new"], change["new"])
            change["field"] = labels.get(change["field"], change["field"])
    return rows


@login_required
@require_GET
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = _lead_access(request, pk)
    lead = access.obj
    user = request.user
    duplicates = (
        services.lead_duplicates(
            user=user,
            company=lead.company,
            phone=lead.phone,
            email=lead.email,
            exclude_lead=lead.pk,
        )
        if lead.status != LeadStatus.CONVERTED
        else services.Duplicates()
    )
    can_change = user.has_perm("pipeline.change_lead") and access.can_change
    return render(
        request,
        "pipeline/leads/detail.html",
        {
            "lead": lead,
            "can_change": can_change and lead.status != LeadStatus.CONVERTED,
            "can_convert": services.lead_can_convert(user, lead),
            "can_delete": user.has_perm("pipeline.delete_lead") and access.can_delete,
            "status_form": LeadStatusForm(initial={"status": lead.status, "version": lead.version}),
            "history": _history(lead),
            "activities": Activity.objects.visible_to(user)
            .filter(lead=lead)
            .select_related("owner")
            .order_by("-start_at")[:20],
            "duplicates": duplicates,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("pipeline.add_lead"):
        raise PermissionDenied
    form = LeadForm(request.POST or None, user=request.user, initial={"owner": request.user})
    duplicates = services.Duplicates()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = services.lead_duplicates(
            user=request.user,
            company=data.get("company", ""),
            phone=data.get("phone", ""),
            email=data.get("email", ""),
        )
        if duplicates and not data.get("confirm_duplicates"):
            form.data = form.data.copy()
            form.data["confirm_duplicates"] = "1"
            messages.warning(
                request,
                _("This looks like records you already have. Open one of them, or save anyway."),
            )
        else:
            fields = {k: data[k] for k in services.LEAD_EDITABLE if k in data}
            try:
                lead = services.lead_create(by=request.user, status=data["status"], **fields)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Lead “%(lead)s” was added.") % {"lead": lead})
                return redirect("pipeline:lead-detail", pk=lead.pk)
    return render(
        request, "pipeline/leads/form.html", {"form": form, "lead": None, "duplicates": duplicates}
    )


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_access(request, pk, change=True).obj
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("A converted lead is kept as it was converted."))
        return redirect("pipeline:lead-detail", pk=lead.pk)
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {k: data[k] for k in (*services.LEAD_EDITABLE, "status") if k in data}
        try:
            lead = services.lead_update(
                by=request.user, lead=lead, expected_version=data.get("version"), **changes
            )
        except StaleWrite:
            form.add_error(None, str(StaleWrite.message))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Lead “%(lead)s” was saved.") % {"lead": lead})
            return redirect("pipeline:lead-detail", pk=lead.pk)
    return render(
        request,
        "pipeline/leads/form.html",
        {"form": form, "lead": lead, "duplicates": services.Duplicates()},
    )


@login_required
@require_GET
def lead_duplicates(request: HttpRequest) -> HttpResponse:
    """The look-alikes of what is being typed (htmx, as the user leaves a field)."""
    if not request.user.has_perm("pipeline.view_lead"):
        raise PermissionDenied
    exclude = request.GET.get("lead")
    duplicates = services.lead_duplicates(
        user=request.user,
        company=request.GET.get("company", ""),
        phone=request.GET.get("phone", ""),
        email=request.GET.get("email", ""),
        exclude_lead=int(exclude) if exclude and exclude.isdigit() else None,
    )
    return render(request, "pipeline/leads/_duplicates.html", {"duplicates": duplicates})


@login_required
@require_POST
def lead_status(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_access(request, pk, change=True).obj
    form = LeadStatusForm(request.POST)
    if form.is_valid():
        try:
            lead = services.lead_set_status(
                by=request.user,
                lead=lead,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data.get("reason", ""),
                expected_version=form.cleaned_data["version"],
            )
        except StaleWrite:
            messages.error(request, str(StaleWrite.message))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("The lead is now “%(status)s”.") % {"status": lead.get_status_display()}
            )
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("pipeline:lead-detail", pk=lead.pk)


@login_required
@require_http_methods(["GET", "POST"])
def lead_convert(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_access(request, pk, change=True).obj
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("This lead was converted already."))
        return redirect("pipeline:lead-detail", pk=lead.pk)
    if not services.lead_can_convert(request.user, lead):
        raise PermissionDenied
    duplicates = services.lead_duplicates(
        user=request.user, company=lead.company, phone=lead.phone, email=lead.email
    )
    form = LeadConvertForm(request.POST or None, lead=lead, duplicates=duplicates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = services.lead_convert(
                lead=lead,
                by=request.user,
                client=data["client"],
                client_name=data.get("client_name", ""),
                deal_title=data["deal_title"],
                amount=data["amount"],
                currency=data["currency"],
                expected_close_date=data.get("expected_close_date"),
            )
        except ValidationError as exc:
            apply_errors(form, exc, {"title": "deal_title", "name": "client_name"})
        else:
            messages.success(
                request,
                _("“%(lead)s” is now a client, a contact and a deal.") % {"lead": result.lead},
            )
            return redirect("pipeline:deal-detail", pk=result.deal.pk)
    return render(request, "pipeline/leads/convert.html", {"lead": lead, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def lead_delete(request: HttpRequest, pk: int) -> HttpResponse:
    access = _lead_access(request, pk)
    lead = access.obj
    if not (request.user.has_perm("pipeline.delete_lead") and access.can_delete):
        raise PermissionDenied
    if request.method == "POST":
        try:
            services.lead_delete(by=request.user, lead=lead)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("pipeline:lead-detail", pk=lead.pk)
        messages.success(request, _("Lead “%(lead)s” was deleted.") % {"lead": lead})
        return redirect("pipeline:lead-list")
    return render(
        request,
        "pipeline/confirm_delete.html",
        {"object": lead, "cancel_url": lead.get_absolute_url()},
    )
