"""Forms for setting targets; the choices offered are exactly what the setter may set."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from pipeline.models import Target
from pipeline.services import targets as services
from salesorg.lib.forms import StyledFormMixin

MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


def _range_help(field: str) -> str:
    """ "Sales rep: 20–30 · Account manager: 5–8" for one activity target."""
    parts = []
    for role in (Role.REP, Role.ACCOUNT_MANAGER):
        default = services.activity_target_defaults(role).get(field)
        if default is not None:
            shown = default.range_label or str(default.value)
            parts.append(f"{role.label}: {shown}")
    return " · ".join(parts)


class TargetNumbersMixin(forms.Form):
    revenue = forms.DecimalField(
        label=_("revenue target (CNY)"), min_value=0, max_digits=14, decimal_places=2
    )
    calls_per_day = forms.IntegerField(label=_("calls a day"), min_value=0, required=False)
    visits_per_week = forms.IntegerField(label=_("visits a week"), min_value=0, required=False)
    demos_per_week = forms.IntegerField(label=_("demos a week"), min_value=0, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in services.ACTIVITY_TARGET_FIELDS:
            hint = _range_help(name)
            if hint:
                self.fields[name].help_text = _("Usual: %(hint)s") % {"hint": hint}


class TargetForm(StyledFormMixin, TargetNumbersMixin, forms.Form):
    """A new target: whose (a person, a team or the company), which period, how much."""

    scope = forms.ChoiceField(label=_("for"), widget=forms.RadioSelect)
    user = forms.ModelChoiceField(label=_("person"), queryset=None, required=False)
    team = forms.ModelChoiceField(label=_("team"), queryset=None, required=False)
    period = forms.ChoiceField(label=_("period"), choices=Target.Period.choices)
    period_start = forms.DateField(
        label=_("starting"),
        input_formats=MONTH_FORMATS,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text=_("Any month in the period: a quarter or year starts at its first month."),
    )

    field_order = [
        "scope",
        "user",
        "team",
        "period",
        "period_start",
        "revenue",
        *services.ACTIVITY_TARGET_FIELDS,
    ]

    def __init__(self, *args: Any, by: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by = by
        self.fields["user"].queryset = (
            services.settable_users(by).select_related("team").order_by("path")
        )
        self.fields["user"].label_from_instance = lambda u: f"{u} — {u.get_role_display()}"
        self.fields["team"].queryset = services.settable_teams(by).order_by("path")
        scopes = [("user", _("a person")), ("team", _("a team"))]
        if services.can_set_company_target(by):
            scopes.append(("company", _("the company")))
        self.fields["scope"].choices = scopes
        self.fields["scope"].widget.attrs["class"] = "btn-check"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        scope = data.get("scope")
        if scope == "user" and not data.get("user"):
            self.add_error("user", _("Choose the person."))
        if scope == "team" and not data.get("team"):
            self.add_error("team", _("Choose the team."))
        if scope != "user":
            data["user"] = None
        if scope != "team":
            data["team"] = None
        return data


class TargetEditForm(StyledFormMixin, TargetNumbersMixin, forms.Form):
    """A target's numbers; its scope and period stay (another scope is another target)."""
