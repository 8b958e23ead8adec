"""One client: its page, history, forms, deletion, revert, sharing and account manager."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Team, User
from accounts.visibility import Access, Relation
from clients import services
from clients.forms import AssignAccountManagerForm, ClientForm, FirstContactForm, ShareForm
from clients.models import Client, Contact, Tag
from clients.timeline import timeline_for
from clients.views.common import apply_errors, client_access, safe_next
from salesorg.lib.concurrency import StaleWrite

TIMELINE_LIMIT = 30
HISTORY_PAGE_SIZE = 20


def _detail_url(client: Client) -> str:
    return reverse("clients:detail", args=[client.pk])


def _lookup_url(client: Client | None = None) -> str:
    url = reverse("clients:lookup")
    return f"{url}?exclude={client.pk}" if client and client.pk else url


# ------------------------------------------------------------------------- detail
@login_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = client_access(request, pk)
    client = access.obj
    user = request.user
    may_share = services.can_share(user, client)
    may_assign = services.can_assign_account_manager(user, access)
    context: dict[str, Any] = {
        "client": client,
        "access": access,
        "via_grant": access.relation == Relation.GRANT,
        "tab": "overview",
        "tags": list(client.tags.all()),
        # The client came through visible_to, and contacts follow their client.
        "contacts": list(client.contacts.all()),
        "can_add_contact": services.can_write_contacts(user, access, "add"),
        "can_change_contact": services.can_write_contacts(user, access, "change"),
        "can_delete_contact": services.can_write_contacts(user, access, "delete"),
        "can_share": may_share,
        "shares": services.client_shares(client) if may_share else [],
        "share_form": ShareForm(actor=user, client=client) if may_share else None,
        "can_assign_am": may_assign,
        "am_form": AssignAccountManagerForm(actor=user, client=client) if may_assign else None,
        "can_revert": user.has_perm("clients.revert_client") and access.can_change,
        "timeline": timeline_for(client, user, TIMELINE_LIMIT),
        "today": timezone.localdate(),
        "key_account_threshold": Client.key_account_threshold(),
    }
    return render(request, "clients/client_detail.html", context)


# ------------------------------------------------------------------------ history
@dataclass
class Version:
    record: Any
    kind: str
    changes: list[services.FieldChange] = field(default_factory=list)
    is_current: bool = False

    @property
    def at(self) -> datetime:
        return self.record.history_date


def _display_values(user: User, records: list[Any]) -> dict[str, dict[Any, str]]:
    """Names for the ids in history rows, a constant number of queries for any page."""
    ids: dict[str, set[int]] = {"owner": set(), "account_manager": set(), "referred_by": set()}
    ids["region"] = set()
    for r in records:
        for name in ids:
            value = getattr(r, f"{name}_id")
            if value:
                ids[name].add(value)
    people = User.objects.filter(pk__in=ids["owner"] | ids["account_manager"])
    person_names = {u.pk: str(u) for u in people}
    # A referrer the user cannot see is not named.
    referrers = dict(
        Client.objects.visible_to(user).filter(pk__in=ids["referred_by"]).values_list("pk", "name")
    )
    regions = dict(Team.objects.filter(pk__in=ids["region"]).values_list("pk", "name"))
    return {
        "owner": person_names,
        "account_manager": person_names,
        "referred_by": {
            pk: referrers.get(pk, _("a client you cannot see")) for pk in ids["referred_by"]
        },
        "region": regions,
    }


def _show(name: str, value: Any, lookups: dict[str, dict[Any, str]]) -> str:
    if value in (None, ""):
        return "—"
    if name in lookups:
        return lookups[name].get(value, f"#{value}")
    model_field = Client._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def client_versions(
    user: User, client: Client, offset: int, limit: int
) -> tuple[list[Version], bool]:
    """A page of the client's history, newest first, each row with what it changed.

    One more row than shown is read so the oldest row on the page has something
    to compare with; tag sets come from simple-history's m2m rows in one query.
    """
    records = list(
        client.history.select_related("history_user").order_by("-history_date", "-history_id")[
            offset : offset + limit + 1
        ]
    )
    has_more = len(records) > limit
    names = services.tracked_client_fields()
    tag_rows = (
        services.tag_history_model()
        .objects.filter(history_id__in=[r.history_id for r in records])
        .values_list("history_id", "tag_id")
    )
    tag_ids_by_record: dict[int, set[int]] = {}
    for history_id, tag_id in tag_rows:
        tag_ids_by_record.setdefault(history_id, set()).add(tag_id)
    all_tag_ids = {t for ids in tag_ids_by_record.values() for t in ids}
    tag_names = dict(Tag.objects.filter(pk__in=all_tag_ids).values_list("pk", "name"))
    lookups = _display_values(user, records)
    attnames = {n: Client._meta.get_field(n).attname for n in names}

    def tags_of(record: Any) -> str:
        ids = tag_ids_by_record.get(record.history_id, set())
        return ", ".join(sorted(tag_names.get(i, f"#{i}") for i in ids)) or "—"

    versions = []
    kinds = {
        "+": pgettext("history", "created"),
        "~": pgettext("history", "changed"),
        "-": pgettext("history", "deleted"),
    }
    for index, record in enumerate(records[:limit]):
        older = records[index + 1] if index + 1 < len(records) else None
        changes = []
        for name in names:
            new = getattr(record, attnames[name])
            old = getattr(older, attnames[name]) if older else None
            if older is None and new in (None, "", False):
                continue
            if older is not None and old == new:
                continue
            changes.append(
                services.FieldChange(
                    name,
                    str(Client._meta.get_field(name).verbose_name),
                    _show(name, old, lookups) if older else "",
                    _show(name, new, lookups),
                )
            )
        new_tags = tags_of(record)
        old_tags = tags_of(older) if older else "—"
        if new_tags != old_tags:
            changes.append(services.FieldChange("tags", _("tags"), old_tags, new_tags))
        versions.append(
            Version(
                record,
                kinds.get(record.history_type, record.history_type),
                changes,
                is_current=offset == 0 and index == 0,
            )
        )
    return versions, has_more


@login_required
def client_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Who changed what, when — field by field — with revert for managers."""
    access = client_access(request, pk)
    try:
        page = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page = 1
    versions, has_more = client_versions(
        request.user, access.obj, (page - 1) * HISTORY_PAGE_SIZE, HISTORY_PAGE_SIZE
    )
    return render(
        request,
        "clients/client_history.html",
        {
            "client": access.obj,
            "access": access,
            "via_grant": access.relation == Relation.GRANT,
            "tab": "history",
            "versions": versions,
            "page_number": page,
            "has_more": has_more,
            "can_revert": request.user.has_perm("clients.revert_client") and access.can_change,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_revert(request: HttpRequest, pk: int, history_id: int) -> HttpResponse:
    access = client_access(request, pk)
    client = access.obj
    if not (request.user.has_perm("clients.revert_client") and access.can_change):
        raise PermissionDenied
    record = client.history.filter(history_id=history_id).select_related("history_user").first()
    if record is None:
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = None
        try:
            services.client_revert(
                by=request.user, client=client, history_id=history_id, expected_version=version
            )
        except StaleWrite as exc:
            error = str(exc.message)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("%(client)s was reverted.") % {"client": client})
            return redirect("clients:history", pk=client.pk)
        client = client_access(request, pk).obj
    return render(
        request,
        "clients/client_revert.html",
        {"client": client, "record": record, "error": error},
    )


# -------------------------------------------------------------------- create/edit
@login_required
@require_http_methods(["GET", "POST"])
def client_create(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("clients.add_client"):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else None
    form = ClientForm(data, actor=request.user, search_url=_lookup_url())
    contact_form = FirstContactForm(data, prefix="contact")
    if request.method == "POST" and form.is_valid() and contact_form.is_valid():
        try:
            client = services.client_create(
                by=request.user, contact=contact_form.service_kwargs(), **form.service_kwargs()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
            apply_errors(contact_form, exc, prefix="contact.")
        else:
            messages.success(request, _("%(client)s was added.") % {"client": client})
            return redirect(client)
    return render(
        request,
        "clients/client_form.html",
        {"form": form, "contact_form": contact_form, "client": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access = client_access(request, pk)
    if not access.can_change:
        raise PermissionDenied
    client = access.obj
    form = ClientForm(
        request.POST if request.method == "POST" else None,
        instance=client,
        actor=request.user,
        search_url=_lookup_url(client),
    )
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                by=request.user,
                client=client,
                expected_version=form.cleaned_data["version"],
                **form.service_kwargs(),
            )
        except StaleWrite as exc:
            form.add_error(None, str(exc.message))
            stale = True
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(client)s was saved.") % {"client": client})
            return redirect(client)
    return render(
        request,
        "clients/client_form.html",
        {"form": form, "client": access.obj, "stale": stale},
    )


@login_required
@require_http_methods(["GET", "POST"])
def client_delete(request: HttpRequest, pk: int) -> HttpResponse:
    access = client_access(request, pk)
    if not access.can_delete:
        raise PermissionDenied
    client = access.obj
    if request.method == "POST":
        name = client.name
        try:
            services.client_delete(by=request.user, client=client)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(client)
        messages.success(request, _("%(client)s was deleted.") % {"client": name})
        return redirect("clients:list")
    return render(
        request,
        "clients/client_confirm_delete.html",
        {"client": client, "contact_count": Contact.objects.filter(client=client).count()},
    )


# ------------------------------------------------------------ sharing and the AM
@login_required
@require_POST
def client_share(request: HttpRequest, pk: int) -> HttpResponse:
    access = client_access(request, pk)
    client = access.obj
    if not services.can_share(request.user, client):
        raise PermissionDenied
    form = ShareForm(request.POST, actor=request.user, client=client)
    if form.is_valid():
        try:
            share = services.client_share(
                by=request.user,
                client=client,
                user=form.cleaned_data["user"],
                level=form.cleaned_data["level"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(client)s is shared with %(user)s (%(level)s).")
                % {"client": client, "user": share.user, "level": share.level_label},
            )
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(f"{_detail_url(client)}#sharing")


@login_required
@require_POST
def client_unshare(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    access = client_access(request, pk)
    client = access.obj
    if not services.can_share(request.user, client):
        raise PermissionDenied
    person = get_object_or_404(User, pk=user_id)
    if services.client_unshare(by=request.user, client=client, user=person):
        messages.success(
            request,
            _("%(user)s no longer has access to %(client)s through a share.")
            % {"user": person, "client": client},
        )
    return redirect(f"{_detail_url(client)}#sharing")


def _assign_access(request: HttpRequest, pk: int) -> Access[Client]:
    access = client_access(request, pk)
    if not services.can_assign_account_manager(request.user, access):
        raise PermissionDenied
    return access


@login_required
@require_POST
def client_assign_account_manager(request: HttpRequest, pk: int) -> HttpResponse:
    access = _assign_access(request, pk)
    client = access.obj
    form = AssignAccountManagerForm(request.POST, actor=request.user, client=client)
    target = safe_next(request, _detail_url(client))
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(target)
    am = form.cleaned_data["account_manager"]
    try:
        services.client_assign_account_manager(
            by=request.user,
            client=client,
            account_manager=am,
            expected_version=form.cleaned_data.get("version"),
        )
    except StaleWrite as exc:
        messages.error(request, str(exc.message))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(user)s is now the account manager of %(client)s.") % {"user": am, "client": client}
            if am
            else _("%(client)s has no dedicated account manager now.") % {"client": client},
        )
    return redirect(target)
