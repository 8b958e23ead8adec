"""Forms for the product catalogue and its sales materials."""

from __future__ import annotations

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from pipeline.models import Product, ProductMaterial
from pipeline.services.materials import allowed_extensions, max_bytes
from salesorg.lib.forms import StyledFormMixin


class ProductForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "name",
            "code",
            "category",
            "unit_price",
            "currency",
            "description",
            "feature",
            "advantage",
            "benefit",
            "is_active",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("description", "feature", "advantage", "benefit")
        }
        help_texts = {
            "feature": _("What it is or has."),
            "advantage": _("What that does better than the alternatives."),
            "benefit": _("What the client gains from it."),
        }


class MaterialForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ProductMaterial
        fields = ["kind", "title", "file"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["file"].help_text = _("%(types)s; up to %(size)s.") % {
            "types": ", ".join(allowed_extensions()),
            "size": filesizeformat(max_bytes()),
        }
        self.fields["file"].widget.attrs["accept"] = ",".join(allowed_extensions())
