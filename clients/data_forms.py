"""Forms of the data pages: import upload and column mapping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.importing import MAX_FILE_SIZE, column_choices
from clients.models import ClientImport
from salesorg.lib.forms import StyledFormMixin


class ImportUploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8 or GBK, as Excel saves it) or .xlsx, at most 20 MB; one row per contact, "
            "the client's columns repeated on each row."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=ClientImport.Mode.choices,
        initial=ClientImport.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_SIZE:
            raise forms.ValidationError(
                _(
                    "This file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller "
                    "files."
                ),
                params={
                    "size": f"{upload.size / 1024 / 1024:.1f}",
                    "limit": MAX_FILE_SIZE // 1024 // 1024,
                },
            )
        return upload


class ImportMappingForm(StyledFormMixin, forms.Form):
    """One select per column of the file: which field it fills (or none)."""

    mode = forms.ChoiceField(
        label=_("Mode"), choices=ClientImport.Mode.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, headers: list[str], mapping: dict[str, str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", _("— not imported —")), *column_choices()]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=mapping.get(header, "")
            )
            self.fields[f"col_{index}"].widget.attrs["class"] = "form-select form-select-sm"

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"col_{i}"] for i in range(len(self.headers))]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = [data.get(f"col_{i}") for i in range(len(self.headers))]
        picked = [c for c in chosen if c]
        twice = {c for c in picked if picked.count(c) > 1}
        if twice:
            labels = dict(column_choices())
            raise forms.ValidationError(
                _("Each field can be filled from one column only: %(fields)s.")
                % {"fields": ", ".join(sorted(labels[c] for c in twice))}
            )
        if "name" not in picked:
            raise forms.ValidationError(_("Choose the column that holds the client name."))
        return data

    def mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data.get(f"col_{i}") or "" for i, header in enumerate(self.headers)
        }
