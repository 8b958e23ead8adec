"""Forms of the survey pages: the public answer form, templates with their
questions, and a campaign with its audience."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.models import Client, SurveyQuestion, SurveyTemplate
from clients.surveys import MAX_TEXT_ANSWER, ContactChoice, QuestionSpec, in_language
from salesorg.lib.forms import StyledFormMixin

Kind = SurveyQuestion.Kind


# --------------------------------------------------------------- public answers
class ScaleSelect(forms.RadioSelect):
    """A row of numbered buttons (0–10 or 1–5) that fits a phone."""

    template_name = "clients/surveys/public/scale.html"

    def __init__(self, *args: Any, low_label: str = "", high_label: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.low_label = low_label
        self.high_label = high_label

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["low_label"] = self.low_label
        context["widget"]["high_label"] = self.high_label
        return context


class AnswerForm(forms.Form):
    """One field per question, labelled in the page's language.

    Fields are named by position (``q1``, ``q2``…): the page carries no
    database ids.
    """

    def __init__(
        self, *args: Any, questions: list[SurveyQuestion], language: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        required_message = _("Please answer this question.")
        for index, question in enumerate(questions, start=1):
            label = in_language(question.text, question.text_zh, language)
            field: forms.Field
            if question.kind == Kind.NPS:
                field = forms.TypedChoiceField(
                    choices=[(n, str(n)) for n in range(11)],
                    coerce=int,
                    widget=ScaleSelect(
                        low_label=_("Not at all likely"), high_label=_("Extremely likely")
                    ),
                )
            elif question.kind == Kind.RATING:
                field = forms.TypedChoiceField(
                    choices=[(n, str(n)) for n in range(1, 6)],
                    coerce=int,
                    widget=ScaleSelect(
                        low_label=_("1 = very dissatisfied"), high_label=_("5 = very satisfied")
                    ),
                )
            elif question.kind == Kind.CHOICE:
                field = forms.ChoiceField(
                    choices=[
                        (c["value"], in_language(c["label"], c.get("label_zh", ""), language))
                        for c in question.choices or []
                    ],
                    widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                )
            else:
                field = forms.CharField(
                    max_length=MAX_TEXT_ANSWER,
                    widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
                )
            field.required = question.required
            field.label = label
            field.error_messages["required"] = required_message
            field.error_messages["invalid_choice"] = _("Choose one of the options.")
            field.question = question  # type: ignore[attr-defined]
            self.fields[f"q{index}"] = field

    def answers(self) -> dict[int, Any]:
        """Answers by question id, for ``surveys.response_submit``."""
        return {
            field.question.pk: self.cleaned_data.get(name)  # type: ignore[attr-defined]
            for name, field in self.fields.items()
        }

    def field_name_of(self, question_id: int) -> str | None:
        for name, field in self.fields.items():
            if field.question.pk == question_id:  # type: ignore[attr-defined]
                return name
        return None


# --------------------------------------------------------------------- templates
class TemplateForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = SurveyTemplate
        fields = ["name", "name_zh", "intro", "intro_zh"]
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 2}),
            "intro_zh": forms.Textarea(attrs={"rows": 2}),
        }


def choices_to_text(choices: list[dict[str, str]]) -> str:
    return "\n".join(
        f"{c.get('label', '')} | {c.get('label_zh', '')}".rstrip(" |") for c in choices or []
    )


def text_to_choices(text: str) -> list[dict[str, str]]:
    """One option per line: "English | 中文"."""
    out = []
    for line in (text or "").splitlines():
        english, _sep, chinese = line.partition("|")
        if english.strip():
            out.append({"label": english.strip(), "label_zh": chinese.strip()})
    return out


class QuestionForm(StyledFormMixin, forms.Form):
    position = forms.IntegerField(
        label=_("Order"), min_value=0, max_value=999, required=False, widget=forms.NumberInput
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "---------"), *Kind.choices])
    text = forms.CharField(label=_("Question"), max_length=300)
    text_zh = forms.CharField(label=_("Question (Chinese)"), max_length=300, required=False)
    choices = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Single choice only: one option per line, “English | 中文”."),
    )
    required = forms.BooleanField(label=_("Answer required"), required=False, initial=True)

    def has_changed(self) -> bool:
        """An empty extra row stays empty whatever its "required" box says."""
        return any(name in self.changed_data for name in ("kind", "text", "text_zh", "choices"))

    def spec(self) -> QuestionSpec:
        data = self.cleaned_data
        return QuestionSpec(
            kind=data["kind"],
            text=data["text"],
            text_zh=data.get("text_zh", ""),
            required=data.get("required", False),
            choices=text_to_choices(data.get("choices", "")) if data["kind"] == Kind.CHOICE else [],
        )


class BaseQuestionFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["class"] = "form-check-input"

    def specs(self) -> list[QuestionSpec]:
        """The filled-in questions in the order given (blank and deleted rows left out)."""
        kept = [
            (f.cleaned_data.get("position"), index, f)
            for index, f in enumerate(self.forms)
            if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        kept.sort(key=lambda item: (item[0] if item[0] is not None else 1000 + item[1], item[1]))
        return [f.spec() for _p, _i, f in kept]


QuestionFormSet = forms.formset_factory(
    QuestionForm, formset=BaseQuestionFormSet, extra=3, can_delete=True, max_num=30
)


def question_initial(template: SurveyTemplate | None) -> list[dict[str, Any]]:
    if template is None:
        return []
    return [
        {
            "position": q.position + 1,
            "kind": q.kind,
            "text": q.text,
            "text_zh": q.text_zh,
            "choices": choices_to_text(q.choices),
            "required": q.required,
        }
        for q in template.questions.all()
    ]


# --------------------------------------------------------------------- campaigns
class ClientSearchMultiSelect(forms.SelectMultiple):
    """A multi-select that only lists the chosen clients, plus a search box that
    offers more (``clients:survey-client-options``): no list of every client."""

    template_name = "clients/surveys/widgets/client_search_select.html"

    def __init__(self, *args: Any, search_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.search_url = search_url

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["search_url"] = self.search_url
        return context


class CampaignForm(StyledFormMixin, forms.Form):
    AUDIENCE_FILTERS = "filters"
    AUDIENCE_CLIENTS = "clients"

    template = forms.ModelChoiceField(
        label=_("Survey"), queryset=SurveyTemplate.objects.order_by("-is_builtin", "name")
    )
    name = forms.CharField(
        label=_("Campaign name"),
        max_length=200,
        required=False,
        help_text=_("Shown to your colleagues only; the survey's name when left empty."),
    )
    audience = forms.ChoiceField(
        label=_("Send to"),
        choices=[
            (AUDIENCE_FILTERS, _("Clients matching the filters below")),
            (AUDIENCE_CLIENTS, _("The clients I pick")),
        ],
        initial=AUDIENCE_FILTERS,
        widget=forms.RadioSelect,
    )
    clients = forms.ModelMultipleChoiceField(
        label=_("Clients"), queryset=Client.objects.none(), required=False
    )
    contacts = forms.ChoiceField(
        label=_("Contacts"),
        choices=ContactChoice.choices,
        initial=ContactChoice.PRIMARY,
        widget=forms.RadioSelect,
    )
    remind_after_days = forms.IntegerField(
        label=_("Remind non-respondents after (days)"), min_value=1, max_value=364, initial=7
    )
    expires_after_days = forms.IntegerField(
        label=_("Links expire after (days)"), min_value=1, max_value=365, initial=30
    )

    def __init__(self, *args: Any, user: User, search_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        visible: QuerySet[Client] = Client.objects.visible_to(user)
        field = self.fields["clients"]
        field.queryset = visible
        field.widget = ClientSearchMultiSelect(
            search_url=search_url, attrs={"class": "form-select"}
        )
        # only the chosen ones are listed (not every visible client)
        chosen = [v for v in (self.data.getlist("clients") if self.is_bound else []) if v.isdigit()]
        field.widget.choices = [
            (c.pk, c.name) for c in visible.filter(pk__in=chosen).only("pk", "name")[:500]
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("audience") == self.AUDIENCE_CLIENTS and not data.get("clients"):
            self.add_error("clients", _("Pick at least one client."))
        remind, expires = data.get("remind_after_days"), data.get("expires_after_days")
        if remind and expires and remind >= expires:
            self.add_error(
                "remind_after_days", _("Remind after at least one day and before the links expire.")
            )
        return data
