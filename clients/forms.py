"""Forms of the client pages.

They only clean what people typed; every rule on the data (duplicates,
referral loops, who may change which field) lives in ``clients.services`` and
comes back as field errors, so a page and the API answer the same. That is why
the model forms skip the model validation step (``_post_clean``): the service
validates the record as it will really be saved.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from clients import services
from clients.models import Client, Contact, Tag
from clients.validators import validate_phone
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin


def _person_label(user: User) -> str:
    return f"{user} — {user.get_role_display()}"


class SearchSelect(forms.Select):
    """A select that renders only its current choice, plus a search box that
    fetches matching options with htmx: the list of clients is too long to
    send in full."""

    template_name = "clients/widgets/search_select.html"

    def __init__(self, *args: Any, search_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.search_url = search_url

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["search_url"] = self.search_url
        return context


class ModelFormWithoutModelValidation(forms.ModelForm):
    #: Model validators also run on the form, so a malformed phone is reported
    #: together with the form's own errors (the service checks them again).
    model_validated_fields: tuple[str, ...] = ("phone", "registration_number")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        opts = self._meta.model._meta
        for name in self.model_validated_fields:
            if name in self.fields:
                self.fields[name].validators.extend(opts.get_field(name).validators)

    def _post_clean(self) -> None:
        """The service validates the record; see the module docstring."""


class ClientForm(StyledFormMixin, VersionedFormMixin, ModelFormWithoutModelValidation):
    """Create or edit a client; the fields offered are those the actor's role may set."""

    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")
    new_tags = forms.CharField(
        label=_("new tags"),
        required=False,
        max_length=300,
        help_text=_("Comma-separated; they are created if they do not exist yet."),
    )

    class Meta:
        model = Client
        fields = [
            "name",
            "registration_number",
            "external_id",
            "status",
            "source",
            "referred_by",
            "industry",
            "segment",
            "region",
            "cadence",
            "phone",
            "email",
            "website",
            "address",
            "city",
            "province",
            "tags",
            "notes",
            "owner",
            "account_manager",
            "is_key_account",
            "spend_12m",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args: Any, actor: User, search_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        instance: Client = self.instance
        allowed = services.writable_client_fields(actor)
        for name in services.PROTECTED_FIELDS:
            if name in self.fields and name not in allowed:
                del self.fields[name]
        if instance.pk:
            self.fields["version"].required = True
        if "owner" in self.fields:
            owners = services.assignable_owners(actor)
            if instance.owner_id:
                owners = owners | User.objects.filter(pk=instance.owner_id)
            self.fields["owner"].queryset = owners.distinct().order_by("path")
            self.fields["owner"].label_from_instance = _person_label
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Empty: you.")
        if "spend_12m" in self.fields:
            self.fields["spend_12m"].required = False
            self.fields["spend_12m"].help_text = _(
                "Recalculated from won deals; change only to correct it."
            )
        if "account_manager" in self.fields:
            ams = services.assignable_account_managers(actor)
            if instance.account_manager_id:
                ams = ams | User.objects.filter(pk=instance.account_manager_id)
            self.fields["account_manager"].queryset = ams.distinct().order_by("path")
        referred = self.fields["referred_by"]
        referred.queryset = Client.objects.visible_to(actor).exclude(pk=instance.pk)
        # Render only the current referrer; the search box finds the others.
        current = instance.referred_by if instance.referred_by_id else None
        referred.widget = SearchSelect(search_url=search_url)
        referred.widget.choices = [("", "---------")] + (
            [(current.pk, current.name)] if current else []
        )
        self.fields["region"].queryset = Team.objects.filter(kind=Team.Kind.REGION)
        self.fields["tags"].queryset = Tag.objects.all()
        self.fields["tags"].required = False
        if not actor.has_perm("clients.add_tag"):
            self.fields["new_tags"].help_text = _("Comma-separated names of existing tags.")
        # StyledFormMixin ran before the widget was swapped.
        referred.widget.attrs["class"] = "form-select"

    def clean_registration_number(self) -> str:
        """Reported with the other field errors (the service checks it again)."""
        value = self.cleaned_data.get("registration_number") or ""
        number = value.strip().upper()
        if number:
            taken = services.registration_number_taken_message(self.actor, number, self.instance.pk)
            if taken:
                raise forms.ValidationError(taken)
        return value

    def service_kwargs(self) -> dict[str, Any]:
        """The cleaned data as keyword arguments of ``client_create``/``client_update``."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in self.fields
            if name in services.CLIENT_FIELDS and name in data
        }
        if fields.get("spend_12m", 0) is None:
            del fields["spend_12m"]
        if "owner" in fields and fields["owner"] is None:
            fields["owner"] = self.instance.owner if self.instance.owner_id else self.actor
        tags = list(data.get("tags") or [])
        new = data.get("new_tags") or ""
        if new:
            tags += [t for t in services.tags_from_names(self.actor, new) if t not in tags]
        return {"tags": tags, **fields}


class ContactForm(StyledFormMixin, VersionedFormMixin, ModelFormWithoutModelValidation):
    class Meta:
        model = Contact
        fields = list(services.CONTACT_FIELDS)
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 2}),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].required = True

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.CONTACT_FIELDS}


class FirstContactForm(StyledFormMixin, forms.Form):
    """The optional first contact on the new-client form."""

    name = forms.CharField(label=_("contact name"), max_length=120, required=False)
    title = forms.CharField(label=_("title"), max_length=120, required=False)
    phone = forms.CharField(
        label=_("phone"),
        max_length=40,
        required=False,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(label=_("e-mail"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("name") and (data.get("phone") or data.get("email") or data.get("title")):
            self.add_error("name", _("Give the contact's name, or leave all contact fields empty."))
        return data

    def service_kwargs(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        return {k: data.get(k) or "" for k in ("name", "title", "phone", "email")}


class ShareForm(StyledFormMixin, forms.Form):
    user = forms.ModelChoiceField(label=_("share with"), queryset=User.objects.none())
    level = forms.ChoiceField(
        label=_("they may"),
        choices=[("view", _("view")), ("edit", _("view and edit"))],
        initial="view",
    )

    def __init__(self, *args: Any, actor: User, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            services.shareable_users(actor)
            .exclude(pk__in=[actor.pk, client.owner_id])
            .select_related("team")
            .order_by("first_name", "last_name", "username")
        )
        self.fields["user"].label_from_instance = _person_label


class AssignAccountManagerForm(StyledFormMixin, VersionedFormMixin, forms.Form):
    account_manager = forms.ModelChoiceField(
        label=_("account manager"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("— none —"),
    )

    def __init__(self, *args: Any, actor: User, client: Client | None = None, **kwargs: Any):
        self.instance = client
        super().__init__(*args, **kwargs)
        self.fields["account_manager"].queryset = services.assignable_account_managers(
            actor
        ).order_by("first_name", "last_name", "username")
        if client is not None:
            self.fields["account_manager"].initial = client.account_manager_id


class SavedFilterForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("name"), max_length=80)
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)
