"""Forms of the delivery project pages."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from pipeline.models import Contract, Milestone, Project, Task
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _people(actor: User) -> Any:
    """Whom a project, milestone or task may be given to: active people the actor sees."""
    return User.objects.visible_to(actor).active().order_by("last_name", "first_name", "username")


def _label(user: User) -> str:
    return f"{user} — {user.get_role_display()}"


class ProjectForm(StyledFormMixin, VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "owner", "contract", "goals", "start_date", "due_date"]
        widgets = {
            "start_date": DATE,
            "due_date": DATE,
            "goals": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, actor: User, client_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people(actor)
        self.fields["owner"].label_from_instance = _label
        self.fields["contract"].queryset = (
            Contract.objects.visible_to(actor).filter(client_id=client_id).order_by("-start_date")
        )

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class MilestoneForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ["name", "owner", "due_date", "status"]
        widgets = {"due_date": DATE}

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people(actor)
        self.fields["owner"].label_from_instance = _label


class TaskForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "milestone", "owner", "due_date", "done"]
        widgets = {"due_date": DATE}

    def __init__(self, *args: Any, actor: User, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people(actor)
        self.fields["owner"].label_from_instance = _label
        self.fields["milestone"].queryset = project.milestones.all()
