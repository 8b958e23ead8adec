"""Forms of the complaint pages.

They only clean what people typed; the rules (who may do what, which status
allows which step, the deadline) live in ``clients.complaints`` and come back
as form errors, so the pages and the API answer the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.forms import SearchSelect
from clients.models import Client, Complaint, Contact
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin

#: What a ``datetime-local`` input sends and shows (local time, to the minute).
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class ComplaintForm(StyledFormMixin, VersionedFormMixin, forms.ModelForm):
    """Log a complaint, or correct its details; the client is fixed by the page."""

    class Meta:
        model = Complaint
        fields = [
            "subject",
            "description",
            "contact",
            "channel",
            "category",
            "severity",
            "received_at",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "received_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format=LOCAL_INPUT
            ),
        }
        help_texts = {
            "received_at": _("When the client complained; leave it as it is for “just now”."),
            "severity": _("The first response is due sooner for a more severe complaint."),
        }

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        contact = self.fields["contact"]
        # The client came through visible_to and contacts follow their client.
        contact.queryset = Contact.objects.filter(client=client).order_by("-is_primary", "name")
        contact.empty_label = _("(not a known contact)")
        self.fields["received_at"].required = self.instance.pk is not None
        self.fields["received_at"].input_formats = [LOCAL_INPUT, "%Y-%m-%d %H:%M"]

    def _post_clean(self) -> None:
        """The service validates the complaint as it will really be saved."""

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        received = data.get("received_at")
        if not received:
            data.pop("received_at", None)
        elif self.instance.pk and received == _to_the_minute(self.instance.received_at):
            # The input shows minutes only: an untouched field is no correction
            # (it would move the deadline by the seconds it dropped).
            data.pop("received_at")
        return data


def _to_the_minute(moment: datetime) -> datetime:
    return timezone.localtime(moment).replace(second=0, microsecond=0)


class ClientPickForm(StyledFormMixin, forms.Form):
    """Step one of logging a complaint from the list: which client."""

    client = forms.ModelChoiceField(
        label=_("Client"), queryset=Client.objects.none(), empty_label=_("Choose a client")
    )

    def __init__(self, *args: Any, user: User, search_url: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["client"]
        field.queryset = Client.objects.visible_to(user)
        # Only the chosen client is rendered; the search box fetches the rest.
        field.widget = SearchSelect(
            search_url=search_url, attrs={"class": "form-select", "data-testid": "client-pick"}
        )
        field.widget.choices = [("", field.empty_label)]


class _ActionForm(StyledFormMixin, forms.Form):
    """A step on the complaint page; carries the version the page showed."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, complaint: Complaint | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if complaint is not None and not self.is_bound:
            self.fields["version"].initial = complaint.version


class RespondForm(_ActionForm):
    text = forms.CharField(
        label=_("Response to the client"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you told the client (by phone, e-mail or in person)."),
    )


class NoteForm(_ActionForm):
    text = forms.CharField(
        label=_("Internal note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Seen by colleagues only; it does not count as a response."),
    )


class ResolveForm(_ActionForm):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(_ActionForm):
    note = forms.CharField(label=_("Closing note"), required=False)


class ReopenForm(_ActionForm):
    reason = forms.CharField(label=_("Why is it reopened?"))


class ReassignForm(_ActionForm):
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())

    def __init__(self, *args: Any, owners: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if owners is not None:
            self.fields["owner"].queryset = owners
        self.fields["owner"].label_from_instance = lambda u: f"{u} — {u.get_role_display()}"
