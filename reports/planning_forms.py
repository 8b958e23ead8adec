"""Forms of the planning, team and weekly-report pages.

The choices offered are exactly what the user may pick (people below them,
teams they lead or belong to); the services check the same rules again, so a
forged POST gets the same answer as the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from reports import planning, teambuilding
from reports.models import (
    Competitor,
    ImprovementAction,
    ImprovementEvaluation,
    MarketAnalysis,
    PerformanceReview,
    PlanMilestone,
    Risk,
    SalesPlan,
    SkillAssessment,
    TrainingRecord,
    WeeklyReport,
)
from salesorg.lib.forms import StyledFormMixin, VersionedFormMixin

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]
TEXT = {"rows": 3}


def person_label(user: User) -> str:
    return f"{user} — {user.get_role_display()}"


def _people_field(field: forms.ModelChoiceField, queryset: Any) -> None:
    field.queryset = queryset.order_by("path")
    field.label_from_instance = person_label


class ValuesMixin:
    """``values()``: the cleaned fields a service takes (not the form's ``version``)."""

    def values(self, *names: str) -> dict[str, Any]:
        fields = names or tuple(self.Meta.fields)  # type: ignore[attr-defined]
        return {name: self.cleaned_data[name] for name in fields if name in self.cleaned_data}  # type: ignore[attr-defined]


# -------------------------------------------------------------------------- plans
class PlanForm(StyledFormMixin, VersionedFormMixin, ValuesMixin, forms.ModelForm):
    period_start = forms.DateField(
        label=_("starting"),
        input_formats=MONTH_FORMATS,
        widget=MONTH,
        help_text=_("Any month in the period: a quarter or year starts at its first month."),
    )
    target_revenue = forms.DecimalField(
        label=_("revenue target (CNY)"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Empty: last period's won revenue grown by the growth rate."),
    )

    class Meta:
        model = SalesPlan
        fields = [
            "title",
            "team",
            "period",
            "period_start",
            "growth_percent",
            "target_revenue",
            "budget",
            "budget_notes",
            "resource_notes",
            "market_notes",
            "status",
            "shared",
        ]
        widgets = {
            "budget_notes": forms.Textarea(attrs=TEXT),
            "resource_notes": forms.Textarea(attrs=TEXT),
            "market_notes": forms.Textarea(attrs=TEXT),
        }

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = self.fields["team"]
        team.queryset = planning.plannable_teams(by).order_by("path")
        team.required = not planning.can_plan_company(by)
        team.empty_label = _("The whole company") if not team.required else None
        if self.instance.pk:
            for name in ("team", "period", "period_start"):
                self.fields[name].disabled = True
            self.fields["target_revenue"].required = True
            self.fields["target_revenue"].help_text = ""


class MilestoneForm(StyledFormMixin, ValuesMixin, forms.ModelForm):
    class Meta:
        model = PlanMilestone
        fields = ["title", "owner", "due_date", "status", "notes"]
        widgets = {"due_date": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people_field(self.fields["owner"], planning.assignable_people(by))


# ------------------------------------------------------------------------ research
class CompetitorForm(StyledFormMixin, VersionedFormMixin, ValuesMixin, forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = Competitor
        fields = [
            "name",
            "website",
            "strengths",
            "weaknesses",
            "pricing",
            "notes",
            "team",
            "shared",
        ]
        widgets = {
            "strengths": forms.Textarea(attrs=TEXT),
            "weaknesses": forms.Textarea(attrs=TEXT),
            "pricing": forms.Textarea(attrs=TEXT),
            "notes": forms.Textarea(attrs=TEXT),
        }

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = planning.shareable_teams(by).order_by("path")
        if not self.instance.pk and by.team_id:
            self.initial.setdefault("team", by.team_id)


class AnalysisForm(StyledFormMixin, VersionedFormMixin, ValuesMixin, forms.ModelForm):
    """The analysis's heading fields plus its kind's structured entries:
    a text area per list (one point a line), or a rating and notes per force."""

    class Meta:
        model = MarketAnalysis
        fields = ["title", "subject", "summary", "team", "shared"]
        widgets = {"summary": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args: Any, by: User, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["team"].queryset = planning.shareable_teams(by).order_by("path")
        if not self.instance.pk and by.team_id:
            self.initial.setdefault("team", by.team_id)
        content = self.instance.content or {}
        self.part_names: list[str] = []
        if kind == MarketAnalysis.Kind.FIVE_FORCES:
            for key, label in planning.FIVE_FORCES:
                entry = content.get(key) or {}
                self.fields[f"c_{key}_rating"] = forms.TypedChoiceField(
                    label=label,
                    choices=[(i, str(i)) for i in range(1, 6)],
                    coerce=int,
                    initial=entry.get("rating", 3),
                    help_text=_("1 = weak force, 5 = strong force"),
                    widget=forms.Select(attrs={"class": "form-select"}),
                )
                self.fields[f"c_{key}_notes"] = forms.CharField(
                    label=_("Notes"),
                    required=False,
                    initial=entry.get("notes", ""),
                    widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
                )
                self.part_names += [f"c_{key}_rating", f"c_{key}_notes"]
        else:
            for key, label in planning.ANALYSIS_LISTS.get(kind, ()):
                self.fields[f"c_{key}"] = forms.CharField(
                    label=label,
                    required=False,
                    initial="\n".join(content.get(key) or []),
                    help_text=_("One point a line."),
                    widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
                )
                self.part_names.append(f"c_{key}")

    def content(self) -> dict[str, Any]:
        data = self.cleaned_data
        if self.kind == MarketAnalysis.Kind.FIVE_FORCES:
            return {
                key: {"rating": data[f"c_{key}_rating"], "notes": data[f"c_{key}_notes"]}
                for key, _label in planning.FIVE_FORCES
            }
        return {
            key: data.get(f"c_{key}", "").splitlines()
            for key, _label in planning.ANALYSIS_LISTS.get(self.kind, ())
        }


# --------------------------------------------------------------------------- risks
class RiskForm(StyledFormMixin, VersionedFormMixin, ValuesMixin, forms.ModelForm):
    class Meta:
        model = Risk
        fields = [
            "title",
            "description",
            "category",
            "likelihood",
            "impact",
            "response",
            "response_plan",
            "owner",
            "review_date",
            "status",
        ]
        widgets = {
            "description": forms.Textarea(attrs=TEXT),
            "response_plan": forms.Textarea(attrs=TEXT),
            "review_date": DATE,
        }

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scale = [(i, str(i)) for i in range(1, 6)]
        for name in ("likelihood", "impact"):
            self.fields[name] = forms.TypedChoiceField(
                label=self.fields[name].label,
                choices=scale,
                coerce=int,
                initial=self.initial.get(name, 3),
                help_text=_("1 = very low, 5 = very high"),
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        _people_field(self.fields["owner"], planning.assignable_people(by))
        if not self.instance.pk:
            self.initial.setdefault("owner", by.pk)


# -------------------------------------------------------------------- improvements
class ActionForm(StyledFormMixin, VersionedFormMixin, ValuesMixin, forms.ModelForm):
    starts_on = forms.DateField(label=_("first month"), input_formats=MONTH_FORMATS, widget=MONTH)
    ends_on = forms.DateField(
        label=_("last month"), input_formats=MONTH_FORMATS, widget=MONTH, required=False
    )

    class Meta:
        model = ImprovementAction
        fields = [
            "title",
            "description",
            "owner",
            "target_metric",
            "starts_on",
            "ends_on",
            "status",
        ]
        widgets = {"description": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people_field(self.fields["owner"], planning.assignable_people(by))
        if not self.instance.pk:
            self.initial.setdefault("owner", by.pk)


class EvaluationForm(StyledFormMixin, ValuesMixin, forms.ModelForm):
    month = forms.DateField(label=_("month"), input_formats=MONTH_FORMATS, widget=MONTH)

    class Meta:
        model = ImprovementEvaluation
        fields = ["month", "result", "rating", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


# ------------------------------------------------------------------ team building
class ReviewForm(StyledFormMixin, VersionedFormMixin, ValuesMixin, forms.ModelForm):
    period_start = forms.DateField(label=_("starting"), input_formats=MONTH_FORMATS, widget=MONTH)
    share = forms.BooleanField(
        label=_("Share with the person now"),
        required=False,
        help_text=_("They are notified and can read and acknowledge it."),
    )

    class Meta:
        model = PerformanceReview
        fields = [
            "person",
            "period",
            "period_start",
            "rating_results",
            "rating_activity",
            "rating_customer",
            "rating_teamwork",
            "rating_overall",
            "strengths",
            "improvements",
            "feedback",
        ]
        widgets = {
            "strengths": forms.Textarea(attrs=TEXT),
            "improvements": forms.Textarea(attrs=TEXT),
            "feedback": forms.Textarea(attrs=TEXT),
        }

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people_field(self.fields["person"], teambuilding.reviewable_people(by))
        if self.instance.pk:
            for name in ("person", "period", "period_start"):
                self.fields[name].disabled = True
            if self.instance.status != PerformanceReview.Status.DRAFT:
                del self.fields["share"]


class AcknowledgeForm(StyledFormMixin, forms.Form):
    comment = forms.CharField(
        label=_("Your comment (optional)"), required=False, widget=forms.Textarea(attrs=TEXT)
    )


class TrainingForm(StyledFormMixin, ValuesMixin, forms.ModelForm):
    class Meta:
        model = TrainingRecord
        fields = ["person", "course", "provider", "taken_on", "hours", "result", "score", "notes"]
        widgets = {"taken_on": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people_field(self.fields["person"], teambuilding.reviewable_people(by))


class SkillForm(StyledFormMixin, ValuesMixin, forms.ModelForm):
    class Meta:
        model = SkillAssessment
        fields = [
            "person",
            "assessed_on",
            "leadership",
            "communication",
            "negotiation",
            "analysis",
            "notes",
        ]
        widgets = {"assessed_on": DATE, "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _people_field(self.fields["person"], teambuilding.reviewable_people(by))
        ideal = teambuilding.ideal_profile()
        for key, _label in teambuilding.SKILLS:
            field = self.fields[key]
            field.widget.attrs.update({"min": 0, "max": 100, "inputmode": "numeric"})
            field.help_text = _("0–100; the ideal manager: %(ideal)s") % {"ideal": ideal[key]}

    def validate_unique(self) -> None:
        """A second assessment on the same day corrects the first (the service updates it)."""


# --------------------------------------------------------------------- weekly report
class WeeklyReportForm(StyledFormMixin, VersionedFormMixin, ValuesMixin, forms.ModelForm):
    class Meta:
        model = WeeklyReport
        fields = [
            "customer_feedback",
            "market_info",
            "competitor_news",
            "next_week_forecast",
            "forecast_amount",
        ]
        widgets = {
            "customer_feedback": forms.Textarea(attrs={"rows": 4}),
            "market_info": forms.Textarea(attrs={"rows": 3}),
            "competitor_news": forms.Textarea(attrs={"rows": 3}),
            "next_week_forecast": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["forecast_amount"].widget.attrs.update({"min": 0, "inputmode": "decimal"})

    def validate_unique(self) -> None:
        """The owner and week are the page's, not the form's; the service keeps one a week."""


class CommentForm(StyledFormMixin, forms.Form):
    body = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
