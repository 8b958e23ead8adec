"""Form pieces the pipeline's pages share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class DateInput(forms.DateInput):
    """The browser's own date picker (a wheel on a phone)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def apply_errors(form: forms.BaseForm, exc: ValidationError, aliases: dict | None = None) -> None:
    """Show a service's ``ValidationError`` on the form: per field when it names one."""
    aliases = aliases or {}
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            name = aliases.get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)
