"""The survey pages for staff: campaigns, templates, results and responses.

Every read starts from ``visible_to(user)``: a campaign's page counts and lists
only the invitations of clients the reader sees, results and responses only
the reader's clients. Writes go through ``clients.surveys``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.visibility import get_for_user
from clients import survey_results as results_service
from clients import surveys
from clients.filters import ClientFilter, filtered, search_clients
from clients.models import (
    Client,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyKind,
    SurveyResponse,
    SurveyTemplate,
)
from clients.survey_forms import CampaignForm, QuestionFormSet, TemplateForm, question_initial
from clients.survey_metrics import DETRACTOR_MAX, LOW_RATING_MAX, PROMOTER_MIN, figures
from salesorg.lib.export import csv_response
from salesorg.lib.listing import Sort, apply_sort, paginate

#: Client filters a campaign's audience may use (the client list's own filters).
AUDIENCE_FILTERS = ("search", "status", "segment", "key_account", "account_manager", "industry")
CLIENT_OPTIONS_LIMIT = 30


def _follow_ups() -> QuerySet[Any]:
    """Follow-ups opened by low scores (whoever owns them: the filter is on responses)."""
    from pipeline.models import Activity

    return Activity.objects.filter(survey_response__isnull=False)


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _language() -> str:
    return "zh-hans" if (get_language() or "").startswith("zh") else "en"


def _bad(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


# =================================================================== campaigns
CAMPAIGN_SORT = {
    "created": "created_at",
    "name": "name",
    "status": "status",
    "sent": "sent_at",
}


def _campaigns(request: HttpRequest) -> QuerySet[SurveyCampaign]:
    qs = SurveyCampaign.objects.visible_to(request.user).select_related("template", "created_by")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(name__icontains=q)
    status = request.GET.get("status", "")
    if status in SurveyCampaign.Status.values:
        qs = qs.filter(status=status)
    kind = request.GET.get("kind", "")
    if kind in SurveyKind.values:
        qs = qs.filter(template__kind=kind)
    origin = request.GET.get("origin", "")
    if origin == "manual":
        qs = qs.filter(key__startswith=surveys.MANUAL_PREFIX)
    elif origin == "automatic":
        qs = qs.exclude(key__startswith=surveys.MANUAL_PREFIX)
    return qs


@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    _require(request, "clients.view_surveycampaign")
    qs, sort = apply_sort(request, _campaigns(request), CAMPAIGN_SORT, "-created")
    if request.GET.get("export") == "csv":
        return _campaign_csv(request, qs)
    page = paginate(request, qs)
    counts = surveys.campaign_counts_by_campaign(request.user, [c.pk for c in page])
    for campaign in page:
        campaign.counts = counts.get(campaign.pk, {})
        campaign.automatic = not campaign.key.startswith(surveys.MANUAL_PREFIX)
    return render(
        request,
        "clients/surveys/campaign_list.html",
        {
            "page": page,
            "sort": sort,
            "statuses": SurveyCampaign.Status.choices,
            "kinds": SurveyKind.choices,
            "can_create": request.user.has_perm("clients.add_surveycampaign"),
        },
    )


def _campaign_csv(request: HttpRequest, qs: QuerySet[SurveyCampaign]) -> HttpResponse:
    def rows():
        offset = 0
        while True:
            chunk = list(qs[offset : offset + 500])
            if not chunk:
                return
            counts = surveys.campaign_counts_by_campaign(request.user, [c.pk for c in chunk])
            for c in chunk:
                n = counts.get(c.pk, {})
                yield (
                    c.name,
                    c.template.name,
                    c.get_status_display(),
                    timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
                    timezone.localtime(c.sent_at).strftime("%Y-%m-%d %H:%M") if c.sent_at else "",
                    n.get("invited", 0),
                    n.get("sent", 0),
                    n.get("reminded", 0),
                    n.get("answered", 0),
                    n.get("expired", 0),
                )
            offset += 500

    return csv_response(
        "survey-campaigns",
        [
            pgettext("survey", "Campaign"),
            _("Survey"),
            _("Status"),
            _("Created"),
            _("Sent"),
            _("Invited"),
            _("E-mailed"),
            _("Reminded"),
            _("Answered"),
            _("Expired"),
        ],
        rows(),
    )


def _audience_filter(request: HttpRequest, data: Any) -> ClientFilter:
    params = {k: data.get(k, "") for k in AUDIENCE_FILTERS}
    return ClientFilter(params, queryset=Client.objects.visible_to(request.user), request=request)


def _audience(request: HttpRequest, form: CampaignForm) -> QuerySet[Client]:
    if form.cleaned_data.get("audience") == CampaignForm.AUDIENCE_CLIENTS:
        ids = [c.pk for c in form.cleaned_data.get("clients") or []]
        return Client.objects.visible_to(request.user).filter(pk__in=ids)
    return filtered(_audience_filter(request, request.POST))


def _styled(form: Any, names: tuple[str, ...]) -> list[Any]:
    """The named fields of the client filter form, with Bootstrap classes."""
    out = []
    for name in names:
        widget = form.fields[name].widget
        css = "form-select" if hasattr(widget, "choices") else "form-control"
        widget.attrs["class"] = css
        widget.attrs["id"] = f"audience-{name}"
        out.append(form[name])
    return out


@login_required
@require_http_methods(["GET", "POST"])
def campaign_create(request: HttpRequest) -> HttpResponse:
    """Pick a survey and an audience, preview the recipients, make the campaign
    (a draft; its page sends it)."""
    _require(request, "clients.add_surveycampaign")
    search_url = reverse("clients:survey-client-options")
    initial: dict[str, Any] = {}
    template_code = request.GET.get("template", "")
    if template_code:
        initial["template"] = SurveyTemplate.objects.filter(code=template_code).first()
    form = CampaignForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        search_url=search_url,
        initial=initial,
    )
    filterset = _audience_filter(request, request.POST if request.method == "POST" else {})
    preview = None
    if request.method == "POST" and form.is_valid():
        clients = _audience(request, form)
        contacts = form.cleaned_data["contacts"]
        if request.POST.get("action") == "preview":
            count, first, capped = surveys.recipients_preview(clients, contacts)
            preview = {"count": count, "first": first, "capped": capped}
            if request.htmx:
                return render(request, "clients/surveys/_recipients_preview.html", preview)
        else:
            try:
                campaign = surveys.campaign_create(
                    by=request.user,
                    template=form.cleaned_data["template"],
                    name=form.cleaned_data["name"],
                    clients=clients,
                    contacts=contacts,
                    remind_after_days=form.cleaned_data["remind_after_days"],
                    expires_after_days=form.cleaned_data["expires_after_days"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.error_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    form.add_error(None, exc)
            else:
                messages.success(
                    request, _("Campaign created. Check the recipients, then send it.")
                )
                return redirect("clients:survey-campaign-detail", pk=campaign.pk)
    elif request.method == "POST" and request.htmx:
        return render(request, "clients/surveys/_recipients_preview.html", {"form": form})
    return render(
        request,
        "clients/surveys/campaign_form.html",
        {
            "form": form,
            "audience_fields": _styled(filterset.form, AUDIENCE_FILTERS),
            "preview": preview,
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@login_required
@require_GET
def client_options(request: HttpRequest) -> HttpResponse:
    """``<option>``s for the campaign's client picker: the chosen ones stay chosen,
    visible clients matching ``q`` are added."""
    _require(request, "clients.add_surveycampaign")
    visible = Client.objects.visible_to(request.user)
    chosen_ids = [v for v in request.GET.getlist("clients") if v.isdigit()][:500]
    chosen = list(visible.filter(pk__in=chosen_ids).only("pk", "name").order_by("name"))
    term = request.GET.get("q", "")
    matches = (
        list(
            search_clients(visible, term)
            .exclude(pk__in=[c.pk for c in chosen])
            .only("pk", "name")
            .order_by("name", "pk")[:CLIENT_OPTIONS_LIMIT]
        )
        if term.strip()
        else []
    )
    return render(
        request,
        "clients/surveys/_client_options.html",
        {"chosen": chosen, "matches": matches},
    )


def _campaign_access(request: HttpRequest, pk: int):
    return get_for_user(
        request.user, SurveyCampaign.objects.select_related("template", "created_by"), pk=pk
    )


RECIPIENT_SORT = {
    "client": "client__name",
    "contact": "contact__name",
    "sent": "sent_at",
    "answered": "answered_at",
    "nps": "response__nps_score",
}


def _recipients(request: HttpRequest, campaign: SurveyCampaign) -> QuerySet[SurveyInvitation]:
    qs = (
        SurveyInvitation.objects.visible_to(request.user)
        .filter(campaign=campaign)
        .select_related("client", "contact", "response")
    )
    state = request.GET.get("state", "")
    now = timezone.now()
    if state == "answered":
        qs = qs.filter(answered_at__isnull=False)
    elif state == "waiting":
        qs = qs.filter(answered_at__isnull=True, sent_at__isnull=False, expires_at__gt=now)
    elif state == "expired":
        qs = qs.filter(answered_at__isnull=True, expires_at__lte=now)
    elif state == "unsent":
        qs = qs.filter(sent_at__isnull=True)
    elif state == "low":
        qs = qs.filter(Exists(_follow_ups().filter(survey_response__invitation=OuterRef("pk"))))
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(client__name__icontains=q) | Q(contact__name__icontains=q))
    return qs


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "clients.view_surveycampaign")
    access = _campaign_access(request, pk)
    campaign = access.obj
    now = timezone.now()
    visible = SurveyInvitation.objects.visible_to(request.user).filter(campaign=campaign)
    qs, sort = apply_sort(request, _recipients(request, campaign), RECIPIENT_SORT, "client")
    if request.GET.get("export") == "csv":
        return csv_response(
            "survey-recipients",
            [
                _("Client"),
                pgettext("person", "Contact"),
                _("E-mail"),
                _("Sent"),
                _("Reminded"),
                _("Answered"),
                _("Expires"),
                _("NPS score"),
                _("CSAT score"),
            ],
            (
                (
                    i.client.name,
                    i.contact.name,
                    i.contact.email,
                    i.sent_at,
                    i.reminded_at,
                    i.answered_at,
                    i.expires_at,
                    getattr(getattr(i, "response", None), "nps_score", None),
                    getattr(getattr(i, "response", None), "csat_score", None),
                )
                for i in qs.iterator(chunk_size=500)
            ),
        )
    counts = surveys.campaign_counts(visible, now)
    scores = figures(
        SurveyResponse.objects.visible_to(request.user).filter(invitation__campaign=campaign)
    )
    page = paginate(request, qs)
    can_change = access.can_change and request.user.has_perm("clients.change_surveycampaign")
    return render(
        request,
        "clients/surveys/campaign_detail.html",
        {
            "campaign": campaign,
            "counts": counts,
            "response_rate": (
                round(100 * counts["answered"] / counts["sent"], 1) if counts["sent"] else None
            ),
            "scores": scores,
            "page": page,
            "sort": sort,
            "now": now,
            "automatic": not campaign.key.startswith(surveys.MANUAL_PREFIX),
            "can_send": can_change
            and campaign.status == SurveyCampaign.Status.DRAFT
            and campaign.key.startswith(surveys.MANUAL_PREFIX),
            "can_close": can_change and campaign.status != SurveyCampaign.Status.CLOSED,
            "language": _language(),
        },
    )


@login_required
@require_POST
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    access = _campaign_access(request, pk)  # 404 before 403
    if not (access.can_change and request.user.has_perm("clients.change_surveycampaign")):
        raise PermissionDenied
    try:
        surveys.campaign_send(by=request.user, campaign=access.obj)
    except ValidationError as exc:
        _bad(request, exc)
    else:
        messages.success(request, _("Sending started: the e-mails go out in the background."))
    return redirect("clients:survey-campaign-detail", pk=pk)


@login_required
@require_POST
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    access = _campaign_access(request, pk)  # 404 before 403
    if not (access.can_change and request.user.has_perm("clients.change_surveycampaign")):
        raise PermissionDenied
    surveys.campaign_close(by=request.user, campaign=access.obj)
    messages.success(request, _("Campaign closed: its links take no more answers."))
    return redirect("clients:survey-campaign-detail", pk=pk)


# =================================================================== templates
@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    _require(request, "clients.view_surveytemplate")
    qs = SurveyTemplate.objects.all()
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(name_zh__icontains=q))
    kind = request.GET.get("kind", "")
    if kind in SurveyKind.values:
        qs = qs.filter(kind=kind)
    qs, sort = apply_sort(
        request,
        qs,
        {"name": "name", "kind": "kind", "created": "created_at", "builtin": "is_builtin"},
        "name",
    )
    if request.GET.get("export") == "csv":
        return csv_response(
            "survey-templates",
            [_("Code"), _("Name"), _("Name (Chinese)"), _("Kind"), _("Built in")],
            (
                (t.code, t.name, t.name_zh, t.get_kind_display(), _("yes") if t.is_builtin else "")
                for t in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "clients/surveys/template_list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "kinds": SurveyKind.choices,
            "language": _language(),
            "can_create": request.user.has_perm("clients.add_surveytemplate"),
        },
    )


@login_required
@require_GET
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "clients.view_surveytemplate")
    template = get_object_or_404(SurveyTemplate, pk=pk)
    user = request.user
    in_use = surveys.template_in_use(template)
    return render(
        request,
        "clients/surveys/template_detail.html",
        {
            "template": template,
            "questions": list(template.questions.all()),
            "language": _language(),
            "in_use": in_use,
            "can_edit": not template.is_builtin and user.has_perm("clients.change_surveytemplate"),
            "can_copy": user.has_perm("clients.add_surveytemplate"),
            "can_delete": not template.is_builtin
            and not in_use
            and user.has_perm("clients.delete_surveytemplate"),
            "can_send": user.has_perm("clients.add_surveycampaign"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    template = None
    if pk is None:
        _require(request, "clients.add_surveytemplate")
    else:
        _require(request, "clients.change_surveytemplate")
        template = get_object_or_404(SurveyTemplate, pk=pk)
        if template.is_builtin:
            raise PermissionDenied
    locked = template is not None and surveys.template_in_use(template)
    data = request.POST if request.method == "POST" else None
    form = TemplateForm(data, instance=template)
    formset = None
    if not locked:
        formset = QuestionFormSet(data, initial=question_initial(template), prefix="q")
    if request.method == "POST" and form.is_valid() and (formset is None or formset.is_valid()):
        try:
            saved = surveys.template_save(
                by=request.user,
                template=template,
                questions=formset.specs() if formset is not None else None,
                **{k: form.cleaned_data[k] for k in ("name", "name_zh", "intro", "intro_zh")},
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
            for name, messages_ in errors.items():
                form.add_error(name if name in form.fields else None, messages_)
        else:
            messages.success(request, _("Survey saved."))
            return redirect("clients:survey-template-detail", pk=saved.pk)
    return render(
        request,
        "clients/surveys/template_form.html",
        {
            "form": form,
            "formset": formset,
            "template": template,
            "locked": locked,
            "questions": list(template.questions.all()) if locked else [],
            "language": _language(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def template_copy(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "clients.add_surveytemplate")
    template = get_object_or_404(SurveyTemplate, pk=pk)
    copy = surveys.template_copy(by=request.user, template=template)
    messages.success(request, _("Copy made: change it as you like."))
    if request.user.has_perm("clients.change_surveytemplate"):
        return redirect("clients:survey-template-edit", pk=copy.pk)
    return redirect("clients:survey-template-detail", pk=copy.pk)


@login_required
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "clients.delete_surveytemplate")
    template = get_object_or_404(SurveyTemplate, pk=pk)
    try:
        surveys.template_delete(by=request.user, template=template)
    except ValidationError as exc:
        _bad(request, exc)
        return redirect("clients:survey-template-detail", pk=pk)
    messages.success(request, _("Survey deleted."))
    return redirect("clients:survey-template-list")


# ===================================================================== results
@login_required
@require_GET
def results(request: HttpRequest) -> HttpResponse:
    """NPS, CSAT, response rate and follow-up calls per company, team, account
    manager or client, for a period."""
    _require(request, "clients.view_surveyresponse")
    today = timezone.localdate()
    period = results_service.period_from(request.GET, today)
    scope = request.GET.get("scope", "company")
    if scope not in results_service.SCOPES:
        scope = "company"
    template_id = request.GET.get("survey", "")
    template_id = int(template_id) if template_id.isdigit() else None
    sort = request.GET.get("sort", "")
    src = results_service.sources(request.user, period, template_id)
    export = request.GET.get("export") == "csv"

    rows: Any = []
    page = None
    people = None  # per person, read once for the rows and the total
    if scope == "am":
        people = results_service.per_person(src)
        rows = results_service.person_rows(src, sort or "name", people)
    elif scope == "team":
        people = results_service.per_person(src)
        rows = results_service.team_rows(request.user, src, sort, people)
    elif scope == "client":
        qs = results_service.client_rows_queryset(src, sort or "name")
        if export:
            rows = results_service.client_export_rows(src, sort or "name")
        else:
            page = paginate(request, qs)
            rows = results_service.client_rows(src, page.object_list)
    if export:
        return _results_csv(scope, period, rows, src)
    total, reasons = results_service.company_figures(src, people)
    return render(
        request,
        "clients/surveys/results.html",
        {
            "period": period,
            "periods": results_service.PERIODS,
            "scope": scope,
            "scopes": results_service.SCOPES,
            "scope_label": results_service.SCOPES[scope],
            "templates": SurveyTemplate.objects.order_by("-is_builtin", "name").only(
                "pk", "name", "name_zh"
            ),
            "template_id": template_id,
            "total": total,
            "reasons": reasons,
            "rows": rows,
            "page": page,
            "trend": results_service.trend(src, today),
            "language": _language(),
            "sort": Sort(sort.lstrip("-"), sort.startswith("-")) if sort else None,
        },
    )


def _pct(value: Any) -> Any:
    return "" if value is None else value


def _results_csv(scope: str, period: Any, rows: Any, src: Any) -> HttpResponse:
    if scope == "company":
        total, _reasons = results_service.company_figures(src)
        rows = [results_service.Row("company", str(_("Company")), total)]
    header = [
        str(results_service.SCOPES[scope]),
        _("From"),
        _("To"),
        _("Responses"),
        _("Promoters"),
        _("Passives"),
        _("Detractors"),
        _("NPS"),
        _("CSAT (mean, 1–5)"),
        _("Satisfied (4–5), %"),
        _("Invitations sent"),
        _("Answered"),
        _("Response rate, %"),
        _("Follow-up calls"),
    ]

    def lines():
        for row in rows:
            f = row.figures
            yield (
                ("  " * row.depth) + row.label,
                period.start,
                period.last_day,
                f.responses,
                f.nps.promoters,
                f.nps.passives,
                f.nps.detractors,
                _pct(f.nps.score),
                _pct(f.csat.mean),
                _pct(f.csat.satisfied_share),
                f.invited,
                f.answered,
                _pct(f.response_rate),
                f.follow_ups,
            )

    return csv_response(f"survey-results-{scope}", header, lines())


# =================================================================== responses
RESPONSE_SORT = {
    "submitted": "submitted_at",
    "client": "client__name",
    "nps": "nps_score",
    "csat": "csat_score",
}


def _responses(request: HttpRequest) -> QuerySet[SurveyResponse]:
    qs = SurveyResponse.objects.visible_to(request.user).select_related(
        "client", "contact", "invitation__campaign__template"
    )
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(client__name__icontains=q) | Q(contact__name__icontains=q))
    band = request.GET.get("band", "")
    if band == "promoter":
        qs = qs.filter(nps_score__gte=PROMOTER_MIN)
    elif band == "passive":
        qs = qs.filter(nps_score__gt=DETRACTOR_MAX, nps_score__lt=PROMOTER_MIN)
    elif band == "detractor":
        qs = qs.filter(nps_score__lte=DETRACTOR_MAX)
    elif band == "low":
        qs = qs.filter(Exists(_follow_ups().filter(survey_response=OuterRef("pk"))))
    survey = request.GET.get("survey", "")
    if survey.isdigit():
        qs = qs.filter(invitation__campaign__template_id=int(survey))
    if request.GET.get("mine") == "1":
        qs = qs.filter(
            Q(client__account_manager=request.user)
            | Q(client__account_manager__isnull=True, client__owner=request.user)
        )
    period = request.GET.get("period", "")
    if period:
        p = results_service.period_from(request.GET, timezone.localdate())
        qs = qs.filter(submitted_at__gte=p.start_at, submitted_at__lt=p.end_at)
    return qs


@login_required
@require_GET
def response_list(request: HttpRequest) -> HttpResponse:
    _require(request, "clients.view_surveyresponse")
    qs, sort = apply_sort(request, _responses(request), RESPONSE_SORT, "-submitted")
    if request.GET.get("export") == "csv":
        return csv_response(
            "survey-responses",
            [
                _("Submitted"),
                _("Client"),
                pgettext("person", "Contact"),
                _("Survey"),
                _("NPS score"),
                _("CSAT score"),
            ],
            (
                (
                    r.submitted_at,
                    r.client.name,
                    r.contact.name if r.contact else "",
                    r.invitation.campaign.template.name,
                    r.nps_score,
                    r.csat_score,
                )
                for r in qs.iterator(chunk_size=500)
            ),
        )
    return render(
        request,
        "clients/surveys/response_list.html",
        {
            "page": paginate(request, qs),
            "sort": sort,
            "templates": SurveyTemplate.objects.order_by("-is_builtin", "name").only(
                "pk", "name", "name_zh"
            ),
            "periods": results_service.PERIODS,
            "language": _language(),
        },
    )


@login_required
@require_GET
def response_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from pipeline.models import Activity

    _require(request, "clients.view_surveyresponse")
    access = get_for_user(
        request.user,
        SurveyResponse.objects.select_related(
            "client", "contact", "invitation__campaign__template"
        ).prefetch_related(
            Prefetch(
                "answers",
                queryset=SurveyAnswer.objects.select_related("question").order_by(
                    "question__position", "question__pk"
                ),
            )
        ),
        pk=pk,
    )
    response = access.obj
    follow_ups = list(
        Activity.objects.visible_to(request.user)
        .filter(survey_response=response)
        .select_related("owner")
    )
    language = _language()
    answers = []
    for answer in response.answers.all():
        question = answer.question
        shown: Any = answer.number
        if question.kind == question.Kind.CHOICE:
            labels = {c.get("value"): c for c in question.choices or []}
            choice = labels.get(answer.choice, {})
            shown = surveys.in_language(
                choice.get("label", answer.choice), choice.get("label_zh", ""), language
            )
        elif question.kind == question.Kind.TEXT:
            shown = answer.text
        answers.append(
            {
                "question": surveys.in_language(question.text, question.text_zh, language),
                "kind": question.kind,
                "value": shown,
                "low": question.kind in (question.Kind.NPS, question.Kind.RATING)
                and answer.number is not None
                and answer.number
                <= (DETRACTOR_MAX if question.kind == question.Kind.NPS else LOW_RATING_MAX),
            }
        )
    return render(
        request,
        "clients/surveys/response_detail.html",
        {
            "response": response,
            "answers": answers,
            "follow_ups": follow_ups,
            "language": language,
        },
    )
