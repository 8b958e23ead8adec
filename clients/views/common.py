"""Helpers the client pages share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.visibility import Access, get_for_user
from clients.models import Client


def client_access(request: HttpRequest, pk: int, **lookup: Any) -> Access[Client]:
    """The client and what the user may do with it; 404 when it is not theirs to see."""
    qs = Client.objects.select_related("owner", "account_manager", "referred_by", "region")
    return get_for_user(request.user, qs, pk=pk, **lookup)


def apply_errors(form: forms.Form, exc: ValidationError, prefix: str = "") -> None:
    """Show a service's ``ValidationError`` on the form, next to the fields it names.

    With ``prefix``, only the errors keyed ``prefix + field`` are taken (the new-
    client page shows the first contact's errors on its own little form).
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        if prefix:
            if not name.startswith(prefix):
                continue
            name = name[len(prefix) :]
        elif "." in name:
            continue
        form.add_error(name if name in form.fields else None, errors)


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
