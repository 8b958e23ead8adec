"""Forms of the lead pages and the public sign-up form."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.validators import validate_phone
from pipeline.forms.common import DateInput
from pipeline.models import Currency, Event, Lead, LeadSource, LeadStatus
from pipeline.services.deals import assignable_owners
from pipeline.services.leads import MANUAL_STATUSES, Duplicates
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin


class LeadForm(StyledFormMixin, VersionedFormMixin, forms.ModelForm):
    """Create or edit a lead; ``confirm_duplicates`` says "I saw the look-alikes, save anyway"."""

    confirm_duplicates = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Lead
        fields = [
            "name",
            "company",
            "title",
            "phone",
            "email",
            "wechat_id",
            "source",
            "campaign",
            "event",
            "owner",
            "status",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = assignable_owners(user).order_by("path")
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        self.fields["event"].queryset = Event.objects.order_by("-starts_on", "name")
        self.fields["status"].choices = [
            (value, label) for value, label in LeadStatus.choices if value in MANUAL_STATUSES
        ]
        if self.instance.pk and self.instance.status not in MANUAL_STATUSES:
            del self.fields["status"]  # disqualified: changed with the status action
        for name in ("company", "phone", "email"):
            self.fields[name].widget.attrs.update({"data-duplicate-check": "1"})
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["email"].widget.attrs.update({"inputmode": "email"})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("owner"):
            data["owner"] = self.instance.owner if self.instance.pk else self.user
        return data


class LeadStatusForm(StyledFormMixin, forms.Form):
    status = forms.ChoiceField(
        label=_("status"),
        choices=[
            (v, label)
            for v, label in LeadStatus.choices
            if v in (*MANUAL_STATUSES, LeadStatus.DISQUALIFIED)
        ],
    )
    reason = forms.CharField(
        label=_("reason for disqualifying"),
        max_length=255,
        required=False,
        help_text=_("Needed when you disqualify the lead."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("status") == LeadStatus.DISQUALIFIED and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the lead is disqualified."))
        return data


NEW_CLIENT = "new"


class LeadConvertForm(StyledFormMixin, forms.Form):
    """Convert: pick the matched client or make a new one, and describe the first deal."""

    client_choice = forms.ChoiceField(label=_("client"), widget=forms.RadioSelect)
    client_name = forms.CharField(label=_("name of the new client"), max_length=200, required=False)
    deal_title = forms.CharField(label=_("deal title"), max_length=200)
    amount = forms.DecimalField(
        label=_("amount"), max_digits=14, decimal_places=2, min_value=0, initial=Decimal("0")
    )
    currency = forms.ChoiceField(
        label=_("currency"), choices=Currency.choices, initial=settings.DEFAULT_CURRENCY
    )
    expected_close_date = forms.DateField(
        label=_("expected close"), required=False, widget=DateInput()
    )

    def __init__(self, *args: Any, lead: Lead, duplicates: Duplicates, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = {str(c.pk): c for c in duplicates.clients}
        new_label = _("A new client")
        self.fields["client_choice"].choices = [
            (NEW_CLIENT, new_label),
            *[(pk, f"{c.name} · {c.owner}") for pk, c in self.candidates.items()],
        ]
        self.fields["client_choice"].initial = NEW_CLIENT
        self.fields["client_name"].initial = lead.company or lead.name
        from pipeline.services.leads import default_deal_title

        self.fields["deal_title"].initial = default_deal_title(lead)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        choice = data.get("client_choice")
        data["client"] = self.candidates.get(choice) if choice and choice != NEW_CLIENT else None
        if choice == NEW_CLIENT and not (data.get("client_name") or "").strip():
            self.add_error("client_name", _("Name the new client."))
        return data


class LeadFilterForm(StyledFormMixin, forms.Form):
    """The lead list's filters; a value that does not parse is ignored, not an error page."""

    q = forms.CharField(label=_("Search"), required=False)
    status = forms.ChoiceField(
        label=_("status"), required=False, choices=[("", _("Any status")), *LeadStatus.choices]
    )
    source = forms.ChoiceField(
        label=_("source"), required=False, choices=[("", _("Any source")), *LeadSource.choices]
    )
    owner = forms.ModelChoiceField(
        label=_("owner"), required=False, queryset=User.objects.none(), empty_label=_("Anyone")
    )
    event = forms.ModelChoiceField(
        label=_("event"), required=False, queryset=Event.objects.none(), empty_label=_("Any event")
    )
    campaign = forms.CharField(label=_("campaign"), required=False)
    created_from = forms.DateField(label=_("created from"), required=False, widget=DateInput())
    created_to = forms.DateField(label=_("created to"), required=False, widget=DateInput())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.visible_to(user).order_by("path")
        self.fields["event"].queryset = Event.objects.order_by("-starts_on", "name")

    def values(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v not in (None, "")}


class SignupForm(forms.Form):
    """The public web form. ``website`` is a honeypot: hidden from people, filled by bots."""

    name = forms.CharField(label=_("Your name"), max_length=120)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=40, required=False, validators=[validate_phone]
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    message = forms.CharField(
        label=_("How can we help?"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    campaign = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "website":
                field.widget.attrs.setdefault("class", "form-control form-control-lg")
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["email"].widget.attrs.update({"autocomplete": "email"})
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})
        self.fields["company"].widget.attrs.update({"autocomplete": "organization"})
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    @property
    def is_spam(self) -> bool:
        return bool((self.data.get("website") or "").strip())

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not (data.get("phone") or data.get("email")):
            raise forms.ValidationError(
                _("Leave a phone number or an e-mail address so we can reach you.")
            )
        return data
