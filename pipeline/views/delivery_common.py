"""Small helpers shared by the quote, contract and project pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts.models import User
from accounts.visibility import Access, get_for_user
from pipeline.models import Deal
from salesorg.lib.concurrency import StaleWrite

M = TypeVar("M", bound=models.Model)


def require_perm(user: User, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def fetch(
    request: HttpRequest, queryset: models.QuerySet[M], pk: int, *, change: bool = False
) -> Access[M]:
    """One record through ``visible_to``: 404 when not visible, 403 when not changeable."""
    access = get_for_user(request.user, queryset, pk=pk)
    if change and not access.can_change:
        raise PermissionDenied
    return access


def fetch_deal(request: HttpRequest, pk: int) -> Access[Deal]:
    """A deal to create a quote, contract or project on: visible and changeable."""
    return fetch(request, Deal.objects.select_related("client", "stage", "owner"), pk, change=True)


def apply_errors(form: forms.Form, exc: ValidationError | StaleWrite) -> None:
    """Show a service's refusal on the form, keeping what the user typed."""
    if isinstance(exc, StaleWrite):
        form.add_error(None, str(StaleWrite.message))
    elif hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def error_text(exc: ValidationError | StaleWrite) -> str:
    if isinstance(exc, StaleWrite):
        return str(StaleWrite.message)
    return " ".join(str(m) for m in exc.messages)


def run_action(
    request: HttpRequest, action: Callable[[], Any], *, success: str, to: str
) -> HttpResponse:
    """Run a POSTed workflow step; report success or the refusal, then go to ``to``."""
    try:
        action()
    except (ValidationError, StaleWrite) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, success)
    return redirect(to)


def posted_version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _blank(value: Any) -> Any:
    """Keep a real zero (0, 0.00) but show an empty string like a missing value."""
    return None if value in ("", None) else value


def history_rows(records: list[Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Who changed which fields when, from simple-history records newest first (no queries)."""
    rows = []
    for index, record in enumerate(records):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        for name in fields:
            new = getattr(record, name)
            old = getattr(previous, name) if previous is not None else None
            if previous is None or new != old:
                field = record._meta.get_field(name)
                label = field.verbose_name
                if field.choices:
                    new = dict(field.flatchoices).get(new, new)
                    old = dict(field.flatchoices).get(old, old) if previous is not None else None
                changes.append(
                    {"field": label, "old": old or _blank(old), "new": new or _blank(new)}
                )
        rows.append(
            {
                "at": record.history_date,
                "who": record.history_user,
                "type": record.history_type,
                "changes": changes if previous is not None else [],
            }
        )
    return rows


def deal_documents(deal: Deal, user: User) -> dict[str, Any]:
    """The quotes, contracts and delivery projects of one deal, for the deal page.

    Context for ``{% include "pipeline/quotes/_deal_documents.html" %}``: three
    small queries, each through ``visible_to`` (a rep sees the quotes of their
    deal, but a contract or project only if it is theirs or their team's).
    """
    from pipeline.models import Contract, Project, Quote, Stage
    from pipeline.services.projects import with_progress
    from pipeline.services.quotes import latest_revisions

    won = deal.stage.kind == Stage.Kind.WON
    lost = deal.stage.kind == Stage.Kind.LOST
    return {
        "deal_quotes": list(
            latest_revisions(Quote.objects.visible_to(user).filter(deal=deal)).order_by(
                "-created_at", "pk"
            )
        ),
        "deal_contracts": list(
            Contract.objects.visible_to(user).filter(deal=deal).order_by("-start_date", "pk")
        ),
        "deal_projects": list(
            with_progress(Project.objects.visible_to(user).filter(deal=deal)).order_by(
                "-created_at", "pk"
            )
        ),
        "can_add_quote": not lost and user.has_perm("pipeline.add_quote"),
        "can_add_contract": won and user.has_perm("pipeline.add_contract"),
        "can_add_project": won and user.has_perm("pipeline.add_project"),
    }
