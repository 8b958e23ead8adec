from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import User
from salesorg.lib.forms import StyledFormMixin


class ProfileForm(StyledFormMixin, forms.ModelForm):
    """What people may change about themselves; role and place are set by their manager."""

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "phone"]


class UserForm(StyledFormMixin, forms.ModelForm):
    """Create or edit a user within the actor's part of the organisation.

    Choices are limited to what the actor may assign; the service checks the
    same rules again, so a crafted POST gets the same answer as the form.
    """

    password = forms.CharField(
        label=_("initial password"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("Leave empty to let them set one with a reset link."),
    )

    class Meta:
        model = User
        fields = ["username", *services.EDITABLE_FIELDS]

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["role"].choices = [(r.value, r.label) for r in services.assignable_roles(actor)]
        self.fields["team"].queryset = services.assignable_teams(actor)
        managers = services.assignable_managers(actor).select_related("team")
        if self.instance.pk:
            managers = managers.exclude(path__startswith=self.instance.path)
            del self.fields["password"]
            self.fields["username"].disabled = True
        self.fields["reports_to"].queryset = managers
        self.fields["reports_to"].label_from_instance = lambda u: f"{u} — {u.get_role_display()}"

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if password:
            validate_password(password)
        return password


class DeactivateForm(StyledFormMixin, forms.Form):
    successor = forms.ModelChoiceField(
        label=_("hand their records to"),
        queryset=User.objects.none(),
        help_text=_(
            "Everything they own, their direct reports and their teams move to this person."
        ),
    )

    def __init__(self, *args: Any, actor: User, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        candidates = services.assignable_managers(actor).exclude(pk=user.pk)
        self.fields["successor"].queryset = candidates
        self.fields["successor"].initial = user.reports_to_id
        self.fields["successor"].label_from_instance = lambda u: f"{u} — {u.get_role_display()}"
