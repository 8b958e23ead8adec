"""A client's contacts: add, edit and delete on small pages that work on a phone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.visibility import access_for, get_for_user
from clients import services
from clients.forms import ContactForm
from clients.models import Contact
from clients.views.common import apply_errors, client_access
from salesorg.lib.concurrency import StaleWrite


def _contact(request: HttpRequest, pk: int, action: str) -> Contact:
    """The contact (404 unless its client is visible), if the user may ``action`` it."""
    contact = get_for_user(
        request.user, Contact.objects.select_related("client", "client__owner"), pk=pk
    ).obj
    if not services.can_write_contacts(
        request.user, access_for(request.user, contact.client), action
    ):
        raise PermissionDenied
    return contact


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    access = client_access(request, pk)
    client = access.obj
    if not services.can_write_contacts(request.user, access, "add"):
        raise PermissionDenied
    form = ContactForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                by=request.user, client=client, **form.service_kwargs()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(contact)s was added.") % {"contact": contact})
            return redirect(f"{client.get_absolute_url()}#contacts")
    return render(
        request, "clients/contact_form.html", {"form": form, "client": client, "contact": None}
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk, "change")
    form = ContactForm(request.POST if request.method == "POST" else None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(
                by=request.user,
                contact=contact,
                expected_version=form.cleaned_data["version"],
                **form.service_kwargs(),
            )
        except StaleWrite as exc:
            form.add_error(None, str(exc.message))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(contact)s was saved.") % {"contact": contact})
            return redirect(f"{contact.client.get_absolute_url()}#contacts")
    return render(
        request,
        "clients/contact_form.html",
        {"form": form, "client": contact.client, "contact": contact},
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk, "delete")
    client = contact.client
    if request.method == "POST":
        services.contact_delete(by=request.user, contact=contact)
        messages.success(request, _("%(contact)s was deleted.") % {"contact": contact})
        return redirect(f"{client.get_absolute_url()}#contacts")
    return render(
        request, "clients/contact_confirm_delete.html", {"contact": contact, "client": client}
    )
