"""Forms for logging and planning activities, and for the quick log on a phone.

Every choice of a linked record (client, lead, deal, contact) is limited to
what the user may see; the service checks the same again, so the form's
choices are a convenience, not the rule.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Contact
from pipeline.models import Activity, ActivityType, Deal, Lead, Product
from pipeline.services.activities import OBJECTION_FIELDS, SPIN_FIELDS, default_duration
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


def _datetime_field(label: Any, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )


class RecordPicker(forms.Widget):
    """A search box that offers matching records as radio buttons (htmx), for phones.

    The chosen record is an ``<input type="radio" name=...>`` so the form
    posts a plain id and works like any select; typing fetches up to ten
    visible matches from ``url`` and shows them as buttons to tap.
    """

    template_name = "pipeline/activities/_picker.html"

    def __init__(self, *, url_name: str, model: type, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.url_name = url_name
        self.model = model
        self.queryset = model.objects.none()
        self.recent: list[Any] = []

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        selected = None
        if value not in (None, "") and str(value).isdigit():
            selected = self.queryset.filter(pk=value).first()
        options = [selected] if selected else []
        options += [r for r in self.recent if not selected or r.pk != selected.pk]
        context["widget"].update(
            {
                "url": reverse(self.url_name),
                "selected": selected,
                "options": options,
                "field_name": name,
            }
        )
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)


def _selected_id(form: forms.BaseForm, name: str) -> int | None:
    if form.is_bound:
        raw = form.data.get(form.add_prefix(name))
    else:
        raw = form.initial.get(name)
        if raw is None and getattr(form, "instance", None) is not None:
            raw = getattr(form.instance, f"{name}_id", None)
    if hasattr(raw, "pk"):
        raw = raw.pk
    return int(raw) if raw not in (None, "") and str(raw).isdigit() else None


class ActivityForm(StyledFormMixin, VersionedFormMixin, forms.ModelForm):
    start_at = _datetime_field(_("when"))
    duration_minutes = forms.IntegerField(
        label=_("duration (minutes)"),
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text=_("Leave empty for the usual length: a visit 45 minutes, a call 10."),
    )

    class Meta:
        model = Activity
        fields = [
            "type",
            "status",
            "client",
            "lead",
            "deal",
            "contact",
            "subject",
            "start_at",
            "duration_minutes",
            "outcome",
            "next_step",
            "follow_up_reason",
            *SPIN_FIELDS,
            "products_demonstrated",
        ]
        widgets = {
            "outcome": forms.Textarea(attrs={"rows": 3}),
            **{name: forms.Textarea(attrs={"rows": 2}) for name in SPIN_FIELDS},
            "products_demonstrated": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["status"].choices = [
            (value, label)
            for value, label in Activity.Status.choices
            if value != Activity.Status.CANCELLED or self.instance.pk
        ]
        clients = Client.objects.visible_to(user)
        leads = Lead.objects.visible_to(user)
        self.fields["client"].queryset = clients
        self.fields["client"].widget = picker = RecordPicker(
            url_name="pipeline:activity-pick-client", model=Client
        )
        picker.queryset = clients
        picker.is_required = False
        self.fields["lead"].queryset = leads
        self.fields["lead"].widget = lead_picker = RecordPicker(
            url_name="pipeline:activity-pick-lead", model=Lead
        )
        lead_picker.queryset = leads
        lead_picker.is_required = False
        client_id = _selected_id(self, "client")
        self.fields["deal"].queryset = (
            Deal.objects.visible_to(user).filter(client_id=client_id).select_related("stage")
            if client_id
            else Deal.objects.none()
        )
        self.fields["deal"].label_from_instance = lambda d: f"{d.title} · {d.stage.label}"
        self.fields["contact"].queryset = (
            Contact.objects.visible_to(user).filter(client_id=client_id)
            if client_id
            else Contact.objects.none()
        )
        chosen = (
            list(self.instance.products_demonstrated.values_list("pk", flat=True))
            if self.instance.pk
            else []
        )
        self.fields["products_demonstrated"].queryset = Product.objects.filter(
            Q(is_active=True) | Q(pk__in=chosen)
        )
        self.fields["type"].widget.attrs["data-activity-type"] = "1"
        if not self.instance.pk and not self.is_bound:
            self.initial.setdefault("start_at", timezone.localtime().replace(second=0))

    def clean_duration_minutes(self) -> int:
        return self.cleaned_data.get("duration_minutes") or default_duration(
            self.cleaned_data.get("type") or ActivityType.OTHER
        )


class ObjectionForm(StyledFormMixin, forms.Form):
    """One objection and how it was handled: listen → confirm → respond → confirm again."""

    objection = forms.CharField(
        label=_("objection (listen)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    confirmed_understanding = forms.CharField(
        label=_("what we confirmed we heard (confirm)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    response = forms.CharField(
        label=_("our response (respond)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    resolved = forms.BooleanField(
        label=_("client confirmed it is answered (confirm again)"), required=False
    )


ObjectionFormSet = forms.formset_factory(
    ObjectionForm, extra=1, can_delete=True, can_delete_extra=False
)


def objection_rows(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    """The objections a valid formset describes, without deleted or empty rows."""
    rows = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        if not data or data.get("DELETE"):
            continue
        rows.append({name: data.get(name) for name in OBJECTION_FIELDS})
    return rows


def objection_initial(activity: Activity | None) -> list[dict[str, Any]]:
    if activity is None or not activity.pk:
        return []
    return list(activity.objections.values(*OBJECTION_FIELDS))


class QuickLogForm(StyledFormMixin, forms.Form):
    """A call or a visit in a few taps: type, client, outcome, maybe a next step."""

    type = forms.ChoiceField(
        label=_("type"),
        choices=[
            (ActivityType.CALL, ActivityType.CALL.label),
            (ActivityType.VISIT, ActivityType.VISIT.label),
        ],
        initial=ActivityType.CALL,
        widget=forms.RadioSelect,
    )
    client = forms.ModelChoiceField(label=_("client"), queryset=Client.objects.none())
    outcome = forms.CharField(label=_("outcome"), widget=forms.Textarea(attrs={"rows": 3}))
    next_step = forms.CharField(label=_("next step"), max_length=255, required=False)
    start_at = _datetime_field(_("when"), required=False)
    spin_situation = forms.CharField(
        label=_("situation"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    spin_problem = forms.CharField(
        label=_("problem"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    spin_implication = forms.CharField(
        label=_("implication"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    spin_need_payoff = forms.CharField(
        label=_("need-payoff"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, user: Any, recent: list[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clients = Client.objects.visible_to(user)
        self.fields["client"].queryset = clients
        self.fields["client"].widget = picker = RecordPicker(
            url_name="pipeline:activity-pick-client", model=Client
        )
        picker.queryset = clients
        picker.is_required = True
        picker.recent = recent
        self.fields["type"].widget.attrs.update({"data-activity-type": "1", "class": "btn-check"})

    def activity_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields: dict[str, Any] = {
            "type": data["type"],
            "status": Activity.Status.DONE,
            "client": data["client"],
            "outcome": data["outcome"],
            "next_step": data.get("next_step", ""),
        }
        if data.get("start_at"):
            fields["start_at"] = data["start_at"]
        if data["type"] == ActivityType.VISIT:
            fields.update({name: data.get(name, "") for name in SPIN_FIELDS})
        return fields


class CompleteForm(StyledFormMixin, forms.Form):
    """Mark a planned activity done, saying how it went."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    outcome = forms.CharField(
        label=_("outcome"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    next_step = forms.CharField(label=_("next step"), max_length=255, required=False)
