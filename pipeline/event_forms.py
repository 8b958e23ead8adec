"""The form for trade shows, forums and client events that support staff organise."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from pipeline.models import Event
from salesorg.lib.forms import StyledFormMixin


class EventForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Event
        fields = ["name", "kind", "starts_on", "ends_on", "venue", "owner", "budget", "notes"]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = User.objects.visible_to(user).active().order_by("path")
        if self.instance.pk:
            people = people | User.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = people
        self.fields["owner"].initial = self.instance.owner_id or user.pk

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("An event ends on or after the day it starts."))
        return data
