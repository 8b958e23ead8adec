"""Forms of the quote pages: the terms, the lines (a formset) and the approval decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pipeline.models import Product, Quote
from pipeline.services.quotes import LineData
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin


class QuoteForm(StyledFormMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Quote
        fields = ["valid_until", "currency", "tax_rate", "notes"]
        widgets = {
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tax_rate"].widget.attrs.update({"min": "0", "max": "100", "step": "0.01"})

    def header(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ProductSelect(forms.Select):
    """Options carry the product's list price, so the page can fill it in."""

    def __init__(self, *args: Any, prices: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prices = prices or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        price = self.prices.get(str(value))
        if price is not None:
            option["attrs"]["data-price"] = price
        return option


class QuoteLineForm(StyledFormMixin, forms.Form):
    """One line: a catalogue product or a free-text item; the price defaults to the product's."""

    product = forms.ChoiceField(label=_("product"), required=False)
    description = forms.CharField(label=_("description"), max_length=255, required=False)
    quantity = forms.DecimalField(
        label=_("quantity"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"), initial=1
    )
    unit_price = forms.DecimalField(
        label=_("unit price"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=_("Empty: the product's list price."),
    )
    discount_percent = forms.DecimalField(
        label=_("discount (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        initial=0,
        required=False,
    )

    def __init__(self, *args: Any, products: dict[str, Product], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products = products
        field = self.fields["product"]
        field.choices = [("", _("— free text —"))] + [(pk, str(p)) for pk, p in products.items()]
        field.widget = ProductSelect(
            prices={pk: f"{p.unit_price}" for pk, p in products.items()},
            attrs={"class": "form-select", "data-role": "product"},
        )
        field.widget.choices = field.choices
        self.fields["unit_price"].widget.attrs["data-role"] = "unit-price"
        for name in ("quantity", "unit_price", "discount_percent"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        product = self.products.get(data.get("product") or "")
        data["product"] = product
        if product is None and not (data.get("description") or "").strip():
            self.add_error("description", _("Choose a product or describe the item."))
        if data.get("unit_price") is None:
            if product is None:
                self.add_error("unit_price", _("Give a unit price for a free-text item."))
            else:
                data["unit_price"] = product.unit_price
        if data.get("discount_percent") is None:
            data["discount_percent"] = Decimal("0")
        return data

    def line(self) -> LineData:
        data = self.cleaned_data
        return LineData(
            product=data["product"],
            description=data.get("description", ""),
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            discount_percent=data["discount_percent"],
        )


class BaseQuoteLineFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, products: dict[str, Product], **kwargs: Any) -> None:
        self.products = products
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "products": self.products}

    def lines(self) -> list[LineData]:
        """The lines to keep: every existing line and each filled-in new one, minus deletions."""
        initial = self.initial_form_count()
        return [
            form.line()
            for index, form in enumerate(self.forms)
            if (index < initial or form.has_changed()) and not self._should_delete_form(form)
        ]


QuoteLineFormSet = forms.formset_factory(
    QuoteLineForm, formset=BaseQuoteLineFormSet, extra=1, can_delete=True, max_num=200
)


def catalogue() -> dict[str, Product]:
    """The active products, read once for every line of the form (one query)."""
    return {str(p.pk): p for p in Product.objects.filter(is_active=True).order_by("name")}


def initial_lines(quote: Quote) -> list[dict[str, Any]]:
    return [
        {
            "product": str(line.product_id) if line.product_id else "",
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent,
        }
        for line in quote.lines.all()
    ]


class DecisionForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ApprovalRequestForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("note for the approver"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
