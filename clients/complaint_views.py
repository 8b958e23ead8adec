"""Complaint pages: the list (tabs per role, filters, export), a complaint with its
conversation log and the steps that move it on, and the forms to log and correct one.

Every read starts from ``Complaint.objects.visible_to(user)``; every write goes
through ``clients.complaints``, which checks the same rules as the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role, User
from accounts.visibility import Access, get_for_user
from clients import complaints as service
from clients.complaint_forms import (
    ClientPickForm,
    CloseForm,
    ComplaintForm,
    NoteForm,
    ReassignForm,
    ReopenForm,
    ResolveForm,
    RespondForm,
)
from clients.models import (
    Client,
    Complaint,
    ComplaintCategory,
    ComplaintEscalation,
    ComplaintStatus,
    Severity,
    overdue_q,
)
from clients.views.common import apply_errors
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

SORT_COLUMNS: dict[str, str | tuple[str, ...]] = {
    "received": "received_at",
    "due": "sla_due_at",
    "client": "client__name",
    "subject": "subject",
    "status": "status",
    "owner": ("owner__last_name", "owner__first_name", "owner__username"),
    "level": "escalation_level",
}

#: The list's tabs: key → label. "team_overdue" is shown to managers and the director.
TABS = {
    "mine": gettext_lazy("My open"),
    "team_overdue": gettext_lazy("My team's overdue"),
    "escalated": gettext_lazy("Escalated to me"),
    "all": gettext_lazy("All"),
}


def _require(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _default_tab(user: User) -> str:
    return "mine" if user.role in (Role.ACCOUNT_MANAGER, Role.REP) else "all"


def _tabs_for(user: User) -> list[tuple[str, Any]]:
    manages = user.is_manager_or_director
    return [(key, label) for key, label in TABS.items() if key != "team_overdue" or manages]


def overdue_expression(now: Any) -> ExpressionWrapper:
    """True for a complaint still waiting for its first response after its deadline."""
    return ExpressionWrapper(overdue_q(now), output_field=BooleanField())


def filtered_complaints(
    request: HttpRequest, now: Any
) -> tuple[QuerySet[Complaint], str, dict[str, Any]]:
    """The user's visible complaints narrowed by the tab and the filters."""
    user = request.user
    params = request.GET
    tab = params.get("tab") or _default_tab(user)
    if tab not in TABS:
        tab = _default_tab(user)
    qs = Complaint.objects.visible_to(user)
    if tab == "mine":
        qs = qs.filter(owner=user, status__in=service.ACTIVE_STATUSES)
    elif tab == "team_overdue":
        qs = qs.overdue(now)
    elif tab == "escalated":
        qs = qs.filter(
            Exists(ComplaintEscalation.objects.filter(complaint=OuterRef("pk"), escalated_to=user))
        )
    chosen: dict[str, Any] = {}
    status = params.get("status", "")
    if status in ComplaintStatus.values:
        qs = qs.filter(status=status)
        chosen["status"] = status
    elif status == "active":
        qs = qs.filter(status__in=service.ACTIVE_STATUSES)
        chosen["status"] = status
    severity = params.get("severity", "")
    if severity in Severity.values:
        qs = qs.filter(severity=severity)
        chosen["severity"] = severity
    category = params.get("category", "")
    if category in ComplaintCategory.values:
        qs = qs.filter(category=category)
        chosen["category"] = category
    client_id = params.get("client", "")
    if client_id:
        # An id that is not a visible client's finds nothing rather than everything.
        qs = qs.filter(client_id=int(client_id)) if client_id.isdigit() else qs.none()
        chosen["client"] = client_id
    if params.get("overdue") == "1":
        qs = qs.overdue(now)
        chosen["overdue"] = True
    q = params.get("q", "").strip()
    if q:
        qs = qs.filter(Q(subject__icontains=q) | Q(client__name__icontains=q))
        chosen["q"] = q
    return qs, tab, chosen


# ------------------------------------------------------------------------ list
@login_required
@require_GET
def complaint_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, "clients.view_complaint")
    now = timezone.now()
    qs, tab, chosen = filtered_complaints(request, now)
    qs = qs.select_related("client", "owner").annotate(is_overdue=overdue_expression(now))
    qs, sort = apply_sort(request, qs, SORT_COLUMNS, "-received")
    if request.GET.get("export") == "csv":
        return export_complaints(qs)
    client = None
    if chosen.get("client", "").isdigit():
        client = (
            Client.objects.visible_to(request.user)
            .filter(pk=chosen["client"])
            .only("pk", "name")
            .first()
        )
    return render(
        request,
        "clients/complaints/list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "tab": tab,
            "tabs": _tabs_for(request.user),
            "chosen": chosen,
            "filter_client": client,
            "statuses": ComplaintStatus.choices,
            "severities": Severity.choices,
            "categories": ComplaintCategory.choices,
            "can_create": request.user.has_perm("clients.add_complaint"),
            "now": now,
        },
    )


def export_complaints(qs: QuerySet[Complaint]) -> HttpResponse:
    """Exactly the filtered, sorted complaints, every page of them, streamed."""
    labels = {
        name: {value: str(label) for value, label in choices}
        for name, choices in (
            ("status", ComplaintStatus.choices),
            ("severity", Severity.choices),
            ("category", ComplaintCategory.choices),
        )
    }
    channels = dict(Complaint._meta.get_field("channel").flatchoices)
    yes, no = _("yes"), _("no")

    def local(moment: Any) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    def rows() -> Iterator[list[Any]]:
        for c in qs.iterator(chunk_size=500):
            within = c.answered_within_sla
            yield [
                c.pk,
                local(c.received_at),
                c.client.name,
                c.subject,
                labels["category"].get(c.category, c.category),
                labels["severity"].get(c.severity, c.severity),
                str(channels.get(c.channel, c.channel)),
                labels["status"].get(c.status, c.status),
                str(c.owner),
                local(c.sla_due_at),
                local(c.first_response_at),
                "" if within is None else (yes if within else no),
                yes if c.is_overdue else no,
                c.escalation_level,
                local(c.resolved_at),
                local(c.closed_at),
                c.reopened_count,
            ]

    header = [
        _("Id"),
        _("Received"),
        _("Client"),
        _("Subject"),
        _("Category"),
        _("Severity"),
        _("Channel"),
        _("Status"),
        _("Owner"),
        _("First response due"),
        _("First response"),
        _("Within SLA"),
        _("Overdue"),
        _("Escalation level"),
        _("Resolved"),
        _("Closed"),
        _("Times reopened"),
    ]
    return csv_response("complaints", header, rows())


# ---------------------------------------------------------------------- detail
def _complaint_qs() -> QuerySet[Complaint]:
    return Complaint.objects.select_related("client", "contact", "owner", "logged_by").annotate(
        is_overdue=overdue_expression(timezone.now())
    )


def _fetch(request: HttpRequest, pk: int, *, change: bool = False) -> Access[Complaint]:
    """One complaint through ``visible_to``: 404 when not visible, 403 when not changeable."""
    access = get_for_user(request.user, _complaint_qs(), pk=pk)
    if change and not access.can_change:
        raise PermissionDenied
    return access


def _sla_state(complaint: Complaint) -> str:
    """``complaint`` comes from ``_complaint_qs``, which annotates ``is_overdue``."""
    if complaint.first_response_at is not None:
        return "met" if complaint.answered_within_sla else "late"
    if complaint.is_overdue:
        return "breached"
    return "running" if complaint.status in service.ACTIVE_STATUSES else "none"


def _detail_context(
    request: HttpRequest, access: Access[Complaint], bound: dict[str, forms.Form] | None = None
) -> dict[str, Any]:
    complaint = access.obj
    user = request.user
    bound = bound or {}
    now = timezone.now()
    active = complaint.status in service.ACTIVE_STATUSES
    change = access.can_change

    def form(name: str, cls: type[forms.Form], allowed: bool, **kwargs: Any) -> forms.Form | None:
        if not allowed:
            return None
        return bound.get(name) or cls(complaint=complaint, prefix=name, **kwargs)

    may_reassign = service.can_reassign(user, complaint)
    return {
        "complaint": complaint,
        "access": access,
        "now": now,
        "sla_state": _sla_state(complaint),
        "sla_hours": round((complaint.sla_due_at - complaint.received_at).total_seconds() / 3600),
        "entries": list(complaint.entries.select_related("author")),
        "escalations": list(complaint.escalations.select_related("escalated_to")),
        "respond_form": form("respond", RespondForm, change and active),
        "note_form": form("note", NoteForm, user.has_perm("clients.add_complaintentry")),
        "resolve_form": form("resolve", ResolveForm, change and active),
        "close_form": form(
            "close", CloseForm, change and complaint.status == ComplaintStatus.RESOLVED
        ),
        "reopen_form": form(
            "reopen", ReopenForm, change and complaint.status in service.REOPENABLE_STATUSES
        ),
        "reassign_form": form(
            "reassign",
            ReassignForm,
            may_reassign,
            owners=service.assignable_owners(user).order_by("first_name", "last_name", "username"),
        ),
    }


@login_required
@require_GET
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = _fetch(request, pk)
    return render(request, "clients/complaints/detail.html", _detail_context(request, access))


# --------------------------------------------------------------------- actions
Step = Callable[[User, Complaint, dict[str, Any]], Any]


def _step_view(
    name: str, form_class: type[forms.Form], step: Step, success: Any, *, change: bool = True
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A POSTed step on the complaint page: on success back to the page with a
    message; on a refusal the page again, with the error on the form and what
    the user typed kept."""

    @login_required
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        access = _fetch(request, pk, change=change)
        complaint = access.obj
        if name == "note" and not request.user.has_perm("clients.add_complaintentry"):
            raise PermissionDenied
        if name == "reassign" and not service.can_reassign(request.user, complaint):
            raise PermissionDenied
        kwargs: dict[str, Any] = {}
        if name == "reassign":
            kwargs["owners"] = service.assignable_owners(request.user)
        form = form_class(request.POST, complaint=complaint, prefix=name, **kwargs)
        if form.is_valid():
            try:
                step(request.user, complaint, form.cleaned_data)
            except StaleWrite as exc:
                form.add_error(None, str(exc.message))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, str(success))
                return redirect(f"{complaint.get_absolute_url()}#log")
        access = _fetch(request, pk)
        return render(
            request,
            "clients/complaints/detail.html",
            _detail_context(request, access, {name: form}),
        )

    view.__name__ = f"complaint_{name}"
    return view


complaint_respond = _step_view(
    "respond",
    RespondForm,
    lambda by, c, data: service.complaint_respond(
        by=by, complaint=c, text=data["text"], expected_version=data.get("version")
    ),
    gettext_lazy("Your response was recorded."),
)
complaint_note = _step_view(
    "note",
    NoteForm,
    lambda by, c, data: service.complaint_note(by=by, complaint=c, text=data["text"]),
    gettext_lazy("Your note was added."),
    change=False,
)
complaint_resolve = _step_view(
    "resolve",
    ResolveForm,
    lambda by, c, data: service.complaint_resolve(
        by=by, complaint=c, resolution=data["resolution"], expected_version=data.get("version")
    ),
    gettext_lazy("The complaint is resolved."),
)
complaint_close = _step_view(
    "close",
    CloseForm,
    lambda by, c, data: service.complaint_close(
        by=by, complaint=c, note=data.get("note", ""), expected_version=data.get("version")
    ),
    gettext_lazy("The complaint is closed."),
)
complaint_reopen = _step_view(
    "reopen",
    ReopenForm,
    lambda by, c, data: service.complaint_reopen(
        by=by, complaint=c, reason=data["reason"], expected_version=data.get("version")
    ),
    gettext_lazy("The complaint is open again."),
)
complaint_reassign = _step_view(
    "reassign",
    ReassignForm,
    lambda by, c, data: service.complaint_reassign(
        by=by, complaint=c, owner=data["owner"], expected_version=data.get("version")
    ),
    gettext_lazy("The complaint has a new owner."),
)


# ----------------------------------------------------------------- create/edit
@login_required
@require_http_methods(["GET", "POST"])
def complaint_create(request: HttpRequest) -> HttpResponse:
    """Log a complaint for ``?client=<id>``; without one, choose the client first."""
    _require(request.user, "clients.add_complaint")
    client_id = request.GET.get("client", "")
    if not client_id:
        return render(
            request,
            "clients/complaints/pick_client.html",
            {"form": ClientPickForm(user=request.user, search_url=reverse("clients:lookup"))},
        )
    client = get_for_user(
        request.user, Client.objects.select_related("owner", "account_manager"), pk=client_id
    ).obj
    form = ComplaintForm(
        request.POST if request.method == "POST" else None,
        client=client,
        initial={"received_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            complaint = service.complaint_log(
                by=request.user, client=client, **form.service_kwargs()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("The complaint was logged and given to %(owner)s; first response due %(due)s.")
                % {
                    "owner": complaint.owner,
                    "due": timezone.localtime(complaint.sla_due_at).strftime("%Y-%m-%d %H:%M"),
                },
            )
            if Complaint.objects.visible_to(request.user).filter(pk=complaint.pk).exists():
                return redirect(complaint)
            # Logged on the client's behalf for someone else's line (support staff).
            return redirect(client)
    return render(
        request,
        "clients/complaints/form.html",
        {
            "form": form,
            "client": client,
            "complaint": None,
            "owner": service.default_owner(client),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def complaint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _fetch(request, pk, change=True).obj
    form = ComplaintForm(
        request.POST if request.method == "POST" else None,
        instance=complaint,
        client=complaint.client,
    )
    if request.method == "POST" and form.is_valid():
        try:
            service.complaint_update(
                by=request.user,
                complaint=complaint,
                expected_version=form.cleaned_data.get("version"),
                **form.service_kwargs(),
            )
        except StaleWrite as exc:
            form.add_error(None, str(exc.message))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The complaint was saved."))
            return redirect(complaint)
    return render(
        request,
        "clients/complaints/form.html",
        {
            "form": form,
            "client": complaint.client,
            "complaint": complaint,
            "owner": complaint.owner,
        },
    )
