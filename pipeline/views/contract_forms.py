"""Forms of the contract pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from pipeline.models import Contract
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContractForm(StyledFormMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Contract
        fields = ["title", "amount", "currency", "start_date", "end_date", "payment_terms"]
        widgets = {"start_date": DATE, "end_date": DATE}

    def terms(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class RenewForm(StyledFormMixin, forms.Form):
    start_date = forms.DateField(label=_("start"), widget=DATE)
    end_date = forms.DateField(label=_("end"), widget=DATE)
    amount = forms.DecimalField(label=_("amount"), max_digits=14, decimal_places=2, min_value=0)
    payment_terms = forms.CharField(label=_("payment terms"), max_length=255, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("A contract ends after it starts."))
        return data


class ContractFileForm(StyledFormMixin, forms.Form):
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    file = forms.FileField(label=_("file"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.SALESORG_CONTRACT_FILE_MAX_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": limit})
        return upload
