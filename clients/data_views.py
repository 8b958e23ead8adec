"""Support's data pages: quality (incomplete records, duplicates), merge, import, export.

Thin views: the work is in ``clients.quality``, ``clients.merge``,
``clients.importing`` and ``clients.exporting``. Every read starts from
``Client.objects.visible_to(user)``; a client id outside it answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.visibility import access_for
from clients import exporting, importing
from clients import quality as data_quality
from clients.columns import BY_KEY
from clients.data_forms import ImportMappingForm, ImportUploadForm
from clients.merge import MergeConflict, client_merge, plan_merge
from clients.models import Client, ClientImport, ClientSource, ClientStatus
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate
from salesorg.lib.pagination import COUNT_CAP


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


# ------------------------------------------------------------------- quality
INCOMPLETE_SORT = {
    "name": ("name",),
    "owner": ("owner__last_name", "owner__username"),
    "created": ("created_at",),
    "updated": ("updated_at",),
}


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    """Incomplete records and duplicate candidates among the clients the user sees."""
    _require(request, "clients.merge_client")
    visible = Client.objects.visible_to(request.user)
    show = "incomplete" if request.GET.get("show") == "incomplete" else "duplicates"
    missing_counts = data_quality.incomplete_counts(visible)
    all_groups = {
        kind: data_quality.DuplicateGroups(kind, visible) for kind in data_quality.DUPLICATE_KINDS
    }
    duplicate_counts = {kind: groups.count() for kind, groups in all_groups.items()}
    context: dict = {
        "show": show,
        "incomplete_counts": missing_counts,
        "missing_cards": [
            (key, label, missing_counts[key]) for key, label in data_quality.MISSING.items()
        ],
        "duplicate_cards": [
            (key, label, duplicate_counts[key])
            for key, label in data_quality.DUPLICATE_KINDS.items()
        ],
    }
    export = request.GET.get("export") == "csv"
    if show == "incomplete":
        missing = request.GET.get("missing", "any")
        missing = missing if missing in data_quality.MISSING else "any"
        qs, sort = apply_sort(
            request, data_quality.incomplete_clients(visible, missing), INCOMPLETE_SORT, "name"
        )
        if export:
            return csv_response(
                "incomplete-clients",
                [
                    _("Id"),
                    _("Client"),
                    _("Owner"),
                    _("Phone"),
                    _("E-mail"),
                    _("Industry"),
                    _("Contacts"),
                ],
                (
                    (
                        c.pk,
                        c.name,
                        c.owner.username,
                        c.phone,
                        c.email,
                        c.industry,
                        _("yes") if c.has_contact else _("no"),
                    )
                    for c in qs.iterator(chunk_size=500)
                ),
            )
        context.update(missing=missing, sort=sort, page=paginate(request, qs))
    else:
        kind = request.GET.get("kind", "name")
        kind = kind if kind in data_quality.DUPLICATE_KINDS else "name"
        search = request.GET.get("q", "").strip()
        groups = data_quality.DuplicateGroups(kind, visible, search) if search else all_groups[kind]
        if export:
            return csv_response(
                "duplicate-clients",
                [
                    _("Group"),
                    _("Id"),
                    _("Client"),
                    _("Owner"),
                    _("Registration number"),
                    _("Phone"),
                    _("E-mail"),
                ],
                (
                    (g.key, c.pk, c.name, c.owner.username, c.registration_number, c.phone, c.email)
                    for g in groups[:COUNT_CAP]
                    for c in g.clients
                ),
            )
        context.update(
            kind=kind,
            kind_label=data_quality.DUPLICATE_KINDS[kind],
            page=paginate(request, groups),
        )
    return render(request, "clients/data/quality.html", context)


# --------------------------------------------------------------------- merge
def _merge_candidates(request: HttpRequest, data) -> list[Client]:
    """The clients named by ``ids``, all visible and changeable, or 404/403."""
    try:
        ids = list(dict.fromkeys(int(i) for i in data.getlist("ids")))
    except ValueError:
        raise Http404 from None
    clients = list(
        Client.objects.visible_to(request.user)
        .filter(pk__in=ids)
        .select_related("owner", "account_manager", "region")
        .order_by("pk")
    )
    if not ids or len(clients) != len(ids):
        raise Http404(_("No client matches the given query."))
    for client in clients:
        if not access_for(request.user, client).can_change:
            raise PermissionDenied
    return clients


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest) -> HttpResponse:
    """Pick the survivor among duplicates, see what moves, then merge."""
    _require(request, "clients.merge_client")
    data = request.POST if request.method == "POST" else request.GET
    clients = _merge_candidates(request, data)
    if len(clients) < 2:
        messages.info(request, _("Choose at least two clients to merge."))
        return redirect("clients:quality")
    by_pk = {c.pk: c for c in clients}
    try:
        survivor = by_pk[int(data.get("survivor") or clients[0].pk)]
    except (KeyError, ValueError):
        raise Http404 from None
    duplicates = [c for c in clients if c.pk != survivor.pk]
    back = _safe_next(request, reverse("clients:quality"))
    if request.method == "POST":
        try:
            survivor = client_merge(survivor=survivor, duplicates=duplicates, by=request.user)
        except (MergeConflict, ValidationError) as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                ngettext(
                    "Merged %(count)s client into %(client)s.",
                    "Merged %(count)s clients into %(client)s.",
                    len(duplicates),
                )
                % {"count": len(duplicates), "client": survivor.name},
            )
            return redirect(back)
    plan = plan_merge(survivor=survivor, duplicates=duplicates)
    return render(
        request,
        "clients/data/merge.html",
        {"clients": clients, "survivor": survivor, "plan": plan, "next": back},
    )


# -------------------------------------------------------------------- import
IMPORT_SORT = {"created": ("created_at",), "file": ("original_name",), "status": ("status",)}


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a file; below, the imports of the user and the people they see."""
    _require(request, "clients.import_client")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            client_import = importing.import_create(
                by=request.user,
                uploaded_file=form.cleaned_data["file"],
                mode=form.cleaned_data["mode"],
            )
        except importing.ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            if client_import.encoding:
                messages.info(
                    request,
                    _("The file was read as %(encoding)s.") % {"encoding": client_import.encoding},
                )
            return redirect("clients:import-detail", pk=client_import.pk)
    history = importing.imports_visible_to(request.user)
    status = request.GET.get("status")
    if status in ClientImport.Status.values:
        history = history.filter(status=status)
    history, sort = apply_sort(request, history, IMPORT_SORT, "-created")
    if request.GET.get("export") == "csv":
        return csv_response(
            "client-imports",
            [
                _("Uploaded"),
                _("File"),
                _("By"),
                _("Status"),
                _("Rows"),
                _("Created"),
                _("Updated"),
                _("Rows with errors"),
            ],
            (
                (
                    i.created_at,
                    i.original_name,
                    i.created_by.username,
                    i.get_status_display(),
                    i.row_count,
                    i.created_count,
                    i.updated_count,
                    i.error_count,
                )
                for i in history.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "clients/data/import.html",
        {
            "form": form,
            "page": paginate(request, history),
            "sort": sort,
            "statuses": ClientImport.Status.choices,
        },
    )


def _visible_import(request: HttpRequest, pk: int) -> ClientImport:
    try:
        return importing.imports_visible_to(request.user).get(pk=pk)
    except ClientImport.DoesNotExist:
        raise Http404(_("No import matches the given query.")) from None


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Map the columns, preview, check every row, then import."""
    _require(request, "clients.import_client")
    client_import = _visible_import(request, pk)
    editable = (
        client_import.created_by_id == request.user.pk
        and client_import.status != ClientImport.Status.COMMITTED
    )
    try:
        preview = importing.import_preview(client_import)
    except (importing.ImportFileError, OSError):
        preview = None
    form = None
    if preview is not None:
        form = ImportMappingForm(
            request.POST or None,
            headers=preview.headers,
            mapping=client_import.column_mapping,
            initial={"mode": client_import.mode},
        )
    if request.method == "POST":
        if not editable or form is None:
            raise PermissionDenied
        if form.is_valid():
            client_import.column_mapping = form.mapping()
            client_import.mode = form.cleaned_data["mode"]
            client_import.save(update_fields=["column_mapping", "mode"])
            commit = request.POST.get("action") == "commit"
            try:
                importing.run_import(client_import, by=request.user, commit=commit)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                _report(request, client_import, commit)
            return redirect("clients:import-detail", pk=client_import.pk)
    mapped = {h: BY_KEY.get(k) for h, k in client_import.column_mapping.items()}
    return render(
        request,
        "clients/data/import_detail.html",
        {
            "imp": client_import,
            "preview": preview,
            "form": form,
            "editable": editable,
            "mapped": mapped,
            "errors_shown": client_import.errors[:200],
        },
    )


def _report(request: HttpRequest, client_import: ClientImport, commit: bool) -> None:
    counts = {
        "created": client_import.created_count,
        "updated": client_import.updated_count,
        "errors": client_import.error_count,
    }
    if client_import.status == ClientImport.Status.COMMITTED:
        messages.success(
            request,
            _(
                "Imported. Clients created: %(created)s; clients updated: %(updated)s; rows "
                "with errors left out: %(errors)s."
            )
            % counts,
        )
    elif commit:
        messages.error(
            request,
            _(
                "Nothing was imported. Rows with errors: %(errors)s. Fix them, or choose to "
                "import only the valid rows."
            )
            % counts,
        )
    elif client_import.status == ClientImport.Status.VALIDATED:
        messages.info(
            request,
            _(
                "Checked. Clients to create: %(created)s; clients to update: %(updated)s; rows "
                "with errors: %(errors)s."
            )
            % counts,
        )


@login_required
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The errors of an import, row by row, as a CSV to fix the file with."""
    _require(request, "clients.import_client")
    client_import = _visible_import(request, pk)
    return csv_response(
        f"import-{client_import.pk}-errors",
        [_("Row"), _("Column"), _("Value"), _("Error")],
        importing.errors_rows(client_import),
    )


# -------------------------------------------------------------------- export
@login_required
def export(request: HttpRequest) -> HttpResponse:
    """Clients with contacts as CSV or XLSX; without ``format``, a page to choose."""
    _require(request, "clients.export_client")
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return exporting.export_response(request.user, request.GET, fmt)
    return render(
        request,
        "clients/data/export.html",
        {
            "statuses": ClientStatus.choices,
            "sources": ClientSource.choices,
            "owners": User.objects.visible_to(request.user)
            .filter(is_active=True)
            .order_by("last_name", "first_name", "username"),
        },
    )
