"""Forms of the deal pages, the board and stage management."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.models import Client
from pipeline.forms.common import DateInput
from pipeline.models import Deal, Product, Stage
from pipeline.services.deals import assignable_owners
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin


class ClientPicker(forms.HiddenInput):
    """A client chosen by searching (``pipeline:client-options``), not from a 10,000-row list."""

    template_name = "pipeline/widgets/client_picker.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        label = ""
        if value not in (None, ""):
            label = Client.objects.filter(pk=value).values_list("name", flat=True).first() or ""
        context["widget"]["label"] = label
        return context


class DealForm(StyledFormMixin, VersionedFormMixin, forms.ModelForm):
    """Create or edit a deal. The stage is set on creation only; later it moves."""

    class Meta:
        model = Deal
        fields = [
            "title",
            "client",
            "amount",
            "currency",
            "stage",
            "probability",
            "expected_close_date",
            "next_step",
            "competitor",
            "products",
            "owner",
        ]
        widgets = {"expected_close_date": DateInput(), "client": ClientPicker()}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        editing = self.instance.pk is not None
        if editing:
            del self.fields["client"]
            del self.fields["stage"]
        else:
            self.fields["client"].queryset = Client.objects.visible_to(user)
            self.fields["stage"].queryset = Stage.objects.filter(
                kind=Stage.Kind.OPEN, is_active=True
            ).order_by("order")
            self.fields["stage"].required = False
            self.fields["stage"].empty_label = _("First stage")
        self.fields["probability"].required = False
        self.fields["probability"].help_text = _("Leave empty to use the stage's default.")
        self.fields["products"].queryset = Product.objects.filter(is_active=True).order_by("name")
        self.fields["products"].required = False
        if user.has_perm("pipeline.reassign_deal"):
            self.fields["owner"].queryset = assignable_owners(user).order_by("path")
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        else:
            del self.fields["owner"]
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal"})

    def changes(self) -> dict[str, Any]:
        """The edited fields, as ``deal_update`` takes them."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if data.get("probability") is None:
            data.pop("probability", None)
        if "owner" in data and data["owner"] is None:
            data.pop("owner")
        return data


class MoveForm(forms.Form):
    """One card's move on the board: the target stage and the version the card showed."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.filter(is_active=True))
    version = forms.IntegerField(min_value=1)


class WonForm(StyledFormMixin, forms.Form):
    closed_on = forms.DateField(label=_("won on"), widget=DateInput())
    amount = forms.DecimalField(
        label=_("final amount"), max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {"closed_on": timezone.localdate(), "amount": deal.amount, "version": deal.version},
        )
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal"})


class LostForm(StyledFormMixin, forms.Form):
    lost_reason = forms.CharField(label=_("reason lost"), max_length=255)
    competitor = forms.CharField(label=_("competitor"), max_length=120, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"competitor": deal.competitor, "version": deal.version})
        super().__init__(*args, **kwargs)


class ReopenForm(StyledFormMixin, forms.Form):
    stage = forms.ModelChoiceField(
        label=_("reopen in"),
        queryset=Stage.objects.none(),
        required=False,
        empty_label=_("The stage it was closed from"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(
            kind=Stage.Kind.OPEN, is_active=True
        ).order_by("order")


STATE_CHOICES = [
    ("", _("Open, won and lost")),
    ("open", _("Open")),
    ("won", _("Won")),
    ("lost", _("Lost")),
]
SCOPE_CHOICES = [("", _("Everything I see")), ("mine", _("Mine")), ("team", _("My team"))]


class DealFilterForm(StyledFormMixin, forms.Form):
    """Filters of the deal list and the board; bad values are ignored."""

    q = forms.CharField(label=_("Search"), required=False)
    scope = forms.ChoiceField(label=_("whose"), choices=SCOPE_CHOICES, required=False)
    owner = forms.ModelChoiceField(
        label=_("owner"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )
    state = forms.ChoiceField(label=_("state"), choices=STATE_CHOICES, required=False)
    stage = forms.ModelChoiceField(
        label=_("stage"), required=False, queryset=Stage.objects.none(), empty_label=_("Any stage")
    )
    client = forms.ModelChoiceField(
        label=_("client"), required=False, queryset=Client.objects.none(), widget=ClientPicker()
    )
    close_from = forms.DateField(label=_("closing from"), required=False, widget=DateInput())
    close_to = forms.DateField(label=_("closing to"), required=False, widget=DateInput())
    amount_min = forms.DecimalField(label=_("amount from"), required=False, min_value=0)
    amount_max = forms.DecimalField(label=_("amount to"), required=False, min_value=0)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.visible_to(user).order_by("path")
        self.fields["client"].queryset = Client.objects.visible_to(user)
        self.fields["stage"].queryset = Stage.objects.order_by("order")

    def values(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "")}


class StageForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "name_zh", "order", "probability", "is_active"]


class NewStageForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "name_zh", "order", "probability"]
