"""Small helpers shared by the planning, team and weekly-report pages.

One record is fetched through ``get_for_user`` (404 when not visible, 403 when
visible but not changeable) and edited or deleted through ``edit_page`` and
``delete_page``; lists go through ``visible_to`` and share one way to sort,
page and export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.visibility import Access
from pipeline.views.delivery_common import apply_errors, fetch, posted_version, run_action
from reports import planning
from salesorg.lib.concurrency import StaleWrite
from salesorg.lib.export import csv_response
from salesorg.lib.listing import apply_sort, paginate

__all__ = [
    "apply_errors",
    "delete_page",
    "edit_page",
    "fetch",
    "form_page",
    "int_param",
    "list_page",
    "people_choices",
    "posted_version",
    "require_perm",
    "run_action",
    "team_choices",
]


def require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() else None


def people_choices(user: User, queryset: QuerySet[User] | None = None) -> QuerySet[User]:
    """The people a filter offers: active people the user sees."""
    qs = queryset if queryset is not None else User.objects.visible_to(user)
    return qs.active().order_by("path")


def team_choices(user: User) -> QuerySet[Team]:
    return Team.objects.visible_to(user).order_by("path")


def list_page(
    request: HttpRequest,
    *,
    qs: QuerySet[Any],
    sort_columns: Mapping[str, str | tuple[str, ...]],
    default_sort: str,
    template: str,
    context: dict[str, Any],
    export_name: str,
    export_header: Sequence[str],
    export_row: Callable[[Any], Sequence[Any]],
    decorate: Callable[[list[Any]], None] | None = None,
) -> HttpResponse:
    """Sort, then either stream the whole filtered list as CSV or show one page of it.

    ``decorate`` may add display attributes to the page's rows (no queries per row).
    """
    qs, sort = apply_sort(request, qs, sort_columns, default_sort)
    if request.GET.get("export") == "csv":
        rows: Iterable[Sequence[Any]] = (export_row(o) for o in qs.iterator(chunk_size=500))
        return csv_response(export_name, export_header, rows)
    page = paginate(request, qs)
    if decorate is not None:
        page.object_list = list(page.object_list)
        decorate(page.object_list)
    return render(request, template, {"page": page, "sort": sort, **context})


def form_page(
    request: HttpRequest,
    *,
    form: forms.BaseForm,
    save: Callable[[Any], Model],
    template: str,
    context: dict[str, Any],
    success: str,
    to: Callable[[Model], str],
) -> HttpResponse:
    """Validate, hand the form to a service, show its refusal on the form or go on."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form)
        except (ValidationError, StaleWrite) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(to(obj))
    return render(request, template, {"form": form, **context})


FORM = "reports/planning/form.html"


def _absolute_url(obj: Model) -> str:
    return obj.get_absolute_url()  # type: ignore[attr-defined]


def edit_page(
    request: HttpRequest,
    queryset: QuerySet[Any],
    pk: int,
    *,
    form_class: type[forms.BaseForm],
    save: Callable[[Any, Any], Model],
    success: str,
    name: str = "title",
    form_kwargs: Callable[[Any], Mapping[str, Any]] | None = None,
    cancel: str | None = None,
    extra: Callable[[Access[Any]], Mapping[str, Any]] | None = None,
    to: Callable[[Model], str] = _absolute_url,
    template: str = FORM,
) -> HttpResponse:
    """The edit page of one record: fetched through ``visible_to`` and changeable
    (404 / 403), its form bound to it, ``save(form, obj)`` calling the service.

    The title is "Edit <the record's ``name`` field>"; cancel goes back to the
    record unless ``cancel`` says otherwise; ``extra`` adds to the context.
    """
    access = fetch(request, queryset, pk, change=True)
    obj = access.obj
    kwargs = form_kwargs(obj) if form_kwargs is not None else {}
    form = form_class(request.POST or None, instance=obj, by=request.user, **kwargs)
    context = {
        "title": _("Edit %(name)s") % {"name": getattr(obj, name)},
        "cancel": cancel if cancel is not None else obj.get_absolute_url(),
    }
    if extra is not None:
        context.update(extra(access))
    return form_page(
        request,
        form=form,
        save=lambda f: save(f, obj),
        template=template,
        context=context,
        success=success,
        to=to,
    )


def delete_page(
    request: HttpRequest,
    queryset: QuerySet[Any],
    pk: int,
    *,
    success: str,
    to: str | Callable[[Any], str],
    delete: Callable[[Any], None] | None = None,
    refuse: Callable[[Any], bool] | None = None,
) -> HttpResponse:
    """Delete one visible record the caller may delete (403 otherwise, or when
    ``refuse(obj)`` says so), then say so and go to ``to`` (a URL name or a URL,
    or a function of the deleted record giving one).

    ``delete(obj)`` defaults to ``planning.delete_record``.
    """
    access = fetch(request, queryset, pk)
    obj = access.obj
    if not access.can_delete or (refuse is not None and refuse(obj)):
        raise PermissionDenied
    if delete is None:
        planning.delete_record(by=request.user, obj=obj)
    else:
        delete(obj)
    messages.success(request, success)
    return redirect(to(obj) if callable(to) else to)
