"""The sales manager's planning pages: sales plans with their targets and
execution plan, market research, the risk register with its heat map, and
improvement actions evaluated monthly.

Every list starts from ``Model.objects.visible_to(user)``, filters, sorts,
pages and exports CSV; one record comes through ``get_for_user``. Writes go
through ``reports.planning`` (the same functions as the API).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.visibility import access_for
from pipeline.models import Target
from pipeline.services import targets as target_rules
from reports import planning
from reports.models import (
    Competitor,
    ImprovementAction,
    ImprovementEvaluation,
    MarketAnalysis,
    PlanMilestone,
    Risk,
    SalesPlan,
)
from reports.planning_forms import (
    ActionForm,
    AnalysisForm,
    CompetitorForm,
    EvaluationForm,
    MilestoneForm,
    PlanForm,
    RiskForm,
)
from reports.views_common import (
    delete_page,
    edit_page,
    fetch,
    form_page,
    int_param,
    list_page,
    people_choices,
    require_perm,
    run_action,
    team_choices,
)

FORM = "reports/planning/form.html"


def _ctx(title: str, cancel: str) -> dict[str, str]:
    return {"title": title, "cancel": cancel}


# ============================================================================ plans
PLAN_SORT = {
    "period": ("period_start", "period"),
    "title": "title",
    "team": "team__path",
    "target": "target_revenue",
    "budget": "budget",
    "owner": ("owner__last_name", "owner__username"),
    "status": "status",
}


def _plans(request: HttpRequest) -> QuerySet[SalesPlan]:
    qs = SalesPlan.objects.visible_to(request.user).select_related("team", "owner")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(title__icontains=q)
    if request.GET.get("period") in Target.Period.values:
        qs = qs.filter(period=request.GET["period"])
    if request.GET.get("status") in SalesPlan.Status.values:
        qs = qs.filter(status=request.GET["status"])
    team = request.GET.get("team", "")
    if team == "company":
        qs = qs.filter(team__isnull=True)
    elif team.isdigit():
        qs = qs.filter(team_id=int(team))
    return qs


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.view_salesplan")
    return list_page(
        request,
        qs=_plans(request),
        sort_columns=PLAN_SORT,
        default_sort="-period",
        template="reports/planning/plan_list.html",
        context={
            "periods": Target.Period.choices,
            "statuses": SalesPlan.Status.choices,
            "teams": team_choices(request.user),
            "can_create": request.user.has_perm("reports.add_salesplan"),
        },
        export_name="sales-plans",
        export_header=[
            _("Title"),
            _("Team"),
            _("Period"),
            _("Growth (%)"),
            _("Last period's won revenue"),
            _("Revenue target"),
            _("Budget"),
            _("Owner"),
            _("Status"),
            _("Shared"),
        ],
        export_row=lambda p: (
            p.title,
            p.team.name if p.team_id else _("Company"),
            target_rules.period_label(p.period, p.period_start),
            p.growth_percent,
            p.baseline_revenue,
            p.target_revenue,
            p.budget,
            str(p.owner),
            p.get_status_display(),
            _("yes") if p.shared else _("no"),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.add_salesplan")
    today = timezone.localdate()
    initial = {
        "period": Target.Period.QUARTER,
        "period_start": target_rules.period_start_for(Target.Period.QUARTER, today),
        "growth_percent": Decimal("15"),
        "team": int_param(request, "team")
        or target_rules.led_teams(request.user).values_list("pk", flat=True).first(),
    }
    form = PlanForm(request.POST or None, by=request.user, initial=initial)
    return form_page(
        request,
        form=form,
        save=lambda f: planning.plan_create(by=request.user, **f.values()),
        template=FORM,
        context=_ctx(_("New sales plan"), reverse("reports:plan-list")),
        success=_("The plan was created; check the proposed targets and save them."),
        to=lambda plan: plan.get_absolute_url(),
    )


def _growth(request: HttpRequest, plan: SalesPlan) -> Decimal:
    try:
        value = Decimal(request.GET.get("growth", ""))
    except InvalidOperation:
        return plan.growth_percent
    return (
        value
        if value.is_finite() and Decimal("-100") <= value <= Decimal("1000")
        else plan.growth_percent
    )


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(request, SalesPlan.objects.select_related("team", "owner"), pk)
    plan = access.obj
    user = request.user
    growth = _growth(request, plan)
    lines = planning.plan_lines(by=user, plan=plan, growth=growth)
    today = timezone.localdate()
    milestones = list(plan.milestones.select_related("owner"))
    node = lines[0] if lines else None
    can_set = access.can_change and user.has_perm("pipeline.set_target")
    return render(
        request,
        "reports/planning/plan_detail.html",
        {
            "plan": plan,
            "access": access,
            "lines": lines,
            "node": node,
            "growth": growth,
            "period_label": target_rules.period_label(plan.period, plan.period_start),
            "previous_label": target_rules.period_label(
                plan.period, planning.previous_period_start(plan.period, plan.period_start)
            ),
            "can_set_any": can_set and any(line.can_set for line in lines),
            "milestones": milestones,
            "today": today,
            "milestone_form": MilestoneForm(by=user, prefix="m") if access.can_change else None,
            "fill": request.GET.get("fill") == "proposal",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return edit_page(
        request,
        SalesPlan.objects.select_related("team"),
        pk,
        form_class=PlanForm,
        save=lambda f, plan: planning.plan_update(
            by=request.user,
            plan=plan,
            expected_version=f.cleaned_data.get("version"),
            **f.values(*planning.PLAN_FIELDS),
        ),
        success=_("The plan was saved."),
    )


@login_required
@require_POST
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a plan and its milestones; the targets it wrote stay (they are the targets)."""
    return delete_page(
        request,
        SalesPlan.objects.all(),
        pk,
        success=_("The plan was deleted; the targets it set stay."),
        to="reports:plan-list",
    )


@login_required
@require_POST
def plan_targets(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the adjusted targets of the plan's lines (``rev-<key>`` fields)."""
    plan = fetch(request, SalesPlan.objects.select_related("team"), pk, change=True).obj
    revenues = {
        name[4:]: value
        for name, value in request.POST.items()
        if name.startswith("rev-") and value.strip() != ""
    }
    try:
        written = planning.plan_save_targets(by=request.user, plan=plan, revenues=revenues)
    except ValidationError as exc:
        for key, errors in exc.message_dict.items():
            messages.error(request, f"{key}: {' '.join(errors)}")
    else:
        messages.success(
            request,
            _("%(count)s targets were written.") % {"count": len(written)}
            if written
            else _("The targets were already set to these amounts."),
        )
    return redirect(plan.get_absolute_url())


@login_required
@require_POST
def milestone_create(request: HttpRequest, pk: int) -> HttpResponse:
    plan = fetch(request, SalesPlan.objects.all(), pk, change=True).obj
    form = MilestoneForm(request.POST, by=request.user, prefix="m")
    if form.is_valid():
        return run_action(
            request,
            lambda: planning.milestone_save(by=request.user, plan=plan, **form.values()),
            success=_("The milestone was added."),
            to=plan.get_absolute_url(),
        )
    messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(plan.get_absolute_url())


def _milestone(request: HttpRequest, pk: int) -> PlanMilestone:
    milestone = fetch(request, PlanMilestone.objects.select_related("plan"), pk).obj
    if not access_for(request.user, milestone.plan).can_change:
        raise PermissionDenied
    return milestone


@login_required
@require_http_methods(["GET", "POST"])
def milestone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone(request, pk)
    form = MilestoneForm(request.POST or None, instance=milestone, by=request.user)
    return form_page(
        request,
        form=form,
        save=lambda f: planning.milestone_save(
            by=request.user, plan=milestone.plan, milestone=milestone, **f.values()
        ),
        template=FORM,
        context=_ctx(_("Edit milestone"), milestone.plan.get_absolute_url()),
        success=_("The milestone was saved."),
        to=lambda m: m.plan.get_absolute_url(),
    )


@login_required
@require_POST
def milestone_status(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone(request, pk)
    status = request.POST.get("status", "")
    if status not in PlanMilestone.Status.values:
        status = PlanMilestone.Status.DONE
    return run_action(
        request,
        lambda: planning.milestone_save(
            by=request.user, plan=milestone.plan, milestone=milestone, status=status
        ),
        success=_("The milestone is now “%(status)s”.")
        % {"status": PlanMilestone.Status(status).label},
        to=milestone.plan.get_absolute_url(),
    )


@login_required
@require_POST
def milestone_delete(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = _milestone(request, pk)
    return run_action(
        request,
        lambda: planning.milestone_delete(by=request.user, milestone=milestone),
        success=_("The milestone was removed."),
        to=milestone.plan.get_absolute_url(),
    )


# ======================================================================= research
COMPETITOR_SORT = {
    "name": "name",
    "author": ("author__last_name", "author__username"),
    "updated": "updated_at",
}


def _competitors(request: HttpRequest) -> QuerySet[Competitor]:
    qs = Competitor.objects.visible_to(request.user).select_related("author", "team")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(strengths__icontains=q)
            | Q(weaknesses__icontains=q)
            | Q(notes__icontains=q)
        )
    if request.GET.get("mine") == "1":
        qs = qs.filter(author=request.user)
    return qs


@login_required
@require_GET
def competitor_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.view_competitor")
    return list_page(
        request,
        qs=_competitors(request),
        sort_columns=COMPETITOR_SORT,
        default_sort="name",
        template="reports/planning/competitor_list.html",
        context={"can_create": request.user.has_perm("reports.add_competitor")},
        export_name="competitors",
        export_header=[
            _("Name"),
            _("Website"),
            _("Strengths"),
            _("Weaknesses"),
            _("Pricing"),
            _("Notes"),
            _("Author"),
            _("Shared with"),
            _("Updated"),
        ],
        export_row=lambda c: (
            c.name,
            c.website,
            c.strengths,
            c.weaknesses,
            c.pricing,
            c.notes,
            str(c.author),
            (c.team.name if c.team_id else _("Company")) if c.shared else "",
            timezone.localtime(c.updated_at).strftime("%Y-%m-%d %H:%M"),
        ),
    )


@login_required
@require_GET
def competitor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(request, Competitor.objects.select_related("author", "team"), pk)
    return render(
        request, "reports/planning/competitor_detail.html", {"c": access.obj, "access": access}
    )


@login_required
@require_http_methods(["GET", "POST"])
def competitor_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.add_competitor")
    form = CompetitorForm(request.POST or None, by=request.user)
    return form_page(
        request,
        form=form,
        save=lambda f: planning.competitor_create(by=request.user, **f.values()),
        template=FORM,
        context=_ctx(_("New competitor"), reverse("reports:competitor-list")),
        success=_("The competitor was added."),
        to=lambda c: c.get_absolute_url(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def competitor_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return edit_page(
        request,
        Competitor.objects.all(),
        pk,
        form_class=CompetitorForm,
        name="name",
        save=lambda f, competitor: planning.competitor_update(
            by=request.user,
            competitor=competitor,
            expected_version=f.cleaned_data.get("version"),
            **f.values(),
        ),
        success=_("The competitor was saved."),
    )


@login_required
@require_POST
def competitor_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_page(
        request,
        Competitor.objects.all(),
        pk,
        success=_("The competitor was deleted."),
        to="reports:competitor-list",
    )


ANALYSIS_SORT = {
    "updated": "updated_at",
    "title": "title",
    "kind": "kind",
    "author": ("author__last_name", "author__username"),
}


def _analyses(request: HttpRequest) -> QuerySet[MarketAnalysis]:
    qs = MarketAnalysis.objects.visible_to(request.user).select_related("author", "team")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(subject__icontains=q) | Q(summary__icontains=q))
    if request.GET.get("kind") in MarketAnalysis.Kind.values:
        qs = qs.filter(kind=request.GET["kind"])
    if request.GET.get("mine") == "1":
        qs = qs.filter(author=request.user)
    return qs


@login_required
@require_GET
def analysis_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.view_marketanalysis")
    return list_page(
        request,
        qs=_analyses(request),
        sort_columns=ANALYSIS_SORT,
        default_sort="-updated",
        template="reports/planning/analysis_list.html",
        context={
            "kinds": MarketAnalysis.Kind.choices,
            "can_create": request.user.has_perm("reports.add_marketanalysis"),
        },
        export_name="market-analyses",
        export_header=[
            _("Title"),
            _("Kind"),
            _("Market or subject"),
            _("Conclusions"),
            _("Entries"),
            _("Author"),
            _("Shared with"),
            _("Updated"),
        ],
        export_row=lambda a: (
            a.title,
            a.get_kind_display(),
            a.subject,
            a.summary,
            _content_text(a),
            str(a.author),
            (a.team.name if a.team_id else _("Company")) if a.shared else "",
            timezone.localtime(a.updated_at).strftime("%Y-%m-%d %H:%M"),
        ),
    )


def analysis_parts(analysis: MarketAnalysis) -> list[dict[str, Any]]:
    """The analysis's entries with their labels, in the order of its kind."""
    content = analysis.content or {}
    if analysis.kind == MarketAnalysis.Kind.FIVE_FORCES:
        return [
            {
                "key": key,
                "label": label,
                "rating": (content.get(key) or {}).get("rating"),
                "notes": (content.get(key) or {}).get("notes", ""),
            }
            for key, label in planning.FIVE_FORCES
        ]
    return [
        {"key": key, "label": label, "items": content.get(key) or []}
        for key, label in planning.ANALYSIS_LISTS.get(analysis.kind, ())
    ]


def _content_text(analysis: MarketAnalysis) -> str:
    parts = []
    for part in analysis_parts(analysis):
        if "items" in part:
            parts.append(f"{part['label']}: {'; '.join(part['items'])}")
        else:
            parts.append(f"{part['label']}: {part['rating']} {part['notes']}".strip())
    return "\n".join(parts)


@login_required
@require_GET
def analysis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(request, MarketAnalysis.objects.select_related("author", "team"), pk)
    return render(
        request,
        "reports/planning/analysis_detail.html",
        {"a": access.obj, "access": access, "parts": analysis_parts(access.obj)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def analysis_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.add_marketanalysis")
    kind = request.GET.get("kind", "")
    if kind not in MarketAnalysis.Kind.values:
        return render(
            request,
            "reports/planning/analysis_kind.html",
            {"kinds": MarketAnalysis.Kind.choices},
        )
    form = AnalysisForm(request.POST or None, by=request.user, kind=kind)
    return form_page(
        request,
        form=form,
        save=lambda f: planning.analysis_create(
            by=request.user, kind=kind, content=f.content(), **f.values()
        ),
        template=FORM,
        context={
            "title": _("New analysis: %(kind)s") % {"kind": MarketAnalysis.Kind(kind).label},
            "cancel": reverse("reports:analysis-list"),
        },
        success=_("The analysis was saved."),
        to=lambda a: a.get_absolute_url(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def analysis_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return edit_page(
        request,
        MarketAnalysis.objects.all(),
        pk,
        form_class=AnalysisForm,
        form_kwargs=lambda analysis: {"kind": analysis.kind},
        save=lambda f, analysis: planning.analysis_update(
            by=request.user,
            analysis=analysis,
            expected_version=f.cleaned_data.get("version"),
            content=f.content(),
            **f.values(),
        ),
        success=_("The analysis was saved."),
    )


@login_required
@require_POST
def analysis_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_page(
        request,
        MarketAnalysis.objects.all(),
        pk,
        success=_("The analysis was deleted."),
        to="reports:analysis-list",
    )


# ========================================================================== risks
RISK_SORT = {
    "score": ("score", "impact"),
    "review": "review_date",
    "title": "title",
    "category": "category",
    "owner": ("owner__last_name", "owner__username"),
    "status": "status",
}


def _risks(request: HttpRequest, *, cell: bool = True) -> QuerySet[Risk]:
    """The register filtered as asked; ``cell=False`` leaves out the heat-map cell
    (likelihood and impact), so the map shows every cell of the filtered list."""
    qs = Risk.objects.visible_to(request.user).select_related("owner")
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    status = request.GET.get("status", "open")
    if status == "open":
        qs = qs.filter(status__in=planning.OPEN_RISK_STATUSES)
    elif status in Risk.Status.values:
        qs = qs.filter(status=status)
    if request.GET.get("category") in Risk.Category.values:
        qs = qs.filter(category=request.GET["category"])
    if request.GET.get("response") in Risk.Response.values:
        qs = qs.filter(response=request.GET["response"])
    owner = int_param(request, "owner")
    if owner:
        qs = qs.filter(owner_id=owner)
    if request.GET.get("overdue") == "1":
        qs = planning.overdue_reviews(qs, timezone.localdate())
    if cell:
        likelihood, impact = int_param(request, "likelihood"), int_param(request, "impact")
        if likelihood:
            qs = qs.filter(likelihood=likelihood)
        if impact:
            qs = qs.filter(impact=impact)
    return qs


def _mark_overdue(risks: list[Risk], today: date) -> None:
    for risk in risks:
        risk.review_overdue = planning.review_overdue(risk, today)


@login_required
@require_GET
def risk_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.view_risk")
    today = timezone.localdate()
    return list_page(
        request,
        qs=_risks(request),
        sort_columns=RISK_SORT,
        default_sort="-score",
        template="reports/planning/risk_list.html",
        context={
            "heat": planning.heat_map(_risks(request, cell=False))
            if request.GET.get("export") != "csv"
            else [],
            "categories": Risk.Category.choices,
            "responses": Risk.Response.choices,
            "statuses": Risk.Status.choices,
            "people": people_choices(request.user),
            "can_create": request.user.has_perm("reports.add_risk"),
            "cell": (int_param(request, "likelihood"), int_param(request, "impact")),
        },
        export_name="risks",
        export_header=[
            _("Risk"),
            _("Category"),
            _("Likelihood"),
            _("Impact"),
            _("Score"),
            _("Response"),
            _("Response plan"),
            _("Owner"),
            _("Next review"),
            _("Review overdue"),
            _("Status"),
        ],
        decorate=lambda risks: _mark_overdue(risks, today),
        export_row=lambda r: (
            r.title,
            r.get_category_display(),
            r.likelihood,
            r.impact,
            r.score,
            r.get_response_display(),
            r.response_plan,
            str(r.owner),
            r.review_date,
            _("yes") if planning.review_overdue(r, today) else "",
            r.get_status_display(),
        ),
    )


@login_required
@require_GET
def risk_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(request, Risk.objects.select_related("owner", "created_by"), pk)
    return render(
        request,
        "reports/planning/risk_detail.html",
        {
            "risk": access.obj,
            "access": access,
            "review_overdue": planning.review_overdue(access.obj, timezone.localdate()),
            "level": planning.risk_level(access.obj.score),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def risk_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.add_risk")
    initial = {"review_date": timezone.localdate() + timedelta(days=30)}
    form = RiskForm(request.POST or None, by=request.user, initial=initial)
    return form_page(
        request,
        form=form,
        save=lambda f: planning.risk_create(by=request.user, **f.values()),
        template=FORM,
        context=_ctx(_("New risk"), reverse("reports:risk-list")),
        success=_("The risk was added to the register."),
        to=lambda r: r.get_absolute_url(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def risk_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return edit_page(
        request,
        Risk.objects.all(),
        pk,
        form_class=RiskForm,
        save=lambda f, risk: planning.risk_update(
            by=request.user, risk=risk, expected_version=f.cleaned_data.get("version"), **f.values()
        ),
        success=_("The risk was saved."),
    )


@login_required
@require_POST
def risk_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_page(
        request, Risk.objects.all(), pk, success=_("The risk was deleted."), to="reports:risk-list"
    )


# ==================================================================== improvements
ACTION_SORT = {
    "starts": "starts_on",
    "title": "title",
    "owner": ("owner__last_name", "owner__username"),
    "status": "status",
    "rating": "last_rating",
}


def _actions(request: HttpRequest) -> QuerySet[ImprovementAction]:
    month = planning.month_start(timezone.localdate())
    latest = ImprovementEvaluation.objects.filter(action=OuterRef("pk")).order_by("-month")
    qs = (
        ImprovementAction.objects.visible_to(request.user)
        .select_related("owner")
        .annotate(
            last_rating=Subquery(latest.values("rating")[:1]),
            last_month=Subquery(latest.values("month")[:1]),
            evaluated_now=Exists(
                ImprovementEvaluation.objects.filter(action=OuterRef("pk"), month=month)
            ),
        )
    )
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(target_metric__icontains=q))
    if request.GET.get("status") in ImprovementAction.Status.values:
        qs = qs.filter(status=request.GET["status"])
    owner = int_param(request, "owner")
    if owner:
        qs = qs.filter(owner_id=owner)
    if request.GET.get("due") == "1":
        qs = planning.due_for_evaluation(qs, month)
    return qs


@login_required
@require_GET
def improvement_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.view_improvementaction")
    month = planning.month_start(timezone.localdate())
    ratings = dict(ImprovementEvaluation.Rating.choices)
    return list_page(
        request,
        qs=_actions(request),
        sort_columns=ACTION_SORT,
        default_sort="-starts",
        template="reports/planning/improvement_list.html",
        context={
            "month": month,
            "statuses": ImprovementAction.Status.choices,
            "people": people_choices(request.user),
            "ratings": ratings,
            "due_count": planning.due_for_evaluation(
                ImprovementAction.objects.visible_to(request.user), month
            ).count()
            if request.GET.get("export") != "csv"
            else 0,
            "can_create": request.user.has_perm("reports.add_improvementaction"),
        },
        export_name="improvement-actions",
        export_header=[
            _("Action"),
            _("Owner"),
            _("Target metric"),
            _("First month"),
            _("Last month"),
            _("Status"),
            _("Last evaluated"),
            _("Last rating"),
            _("Due for this month's evaluation"),
        ],
        export_row=lambda a: (
            a.title,
            str(a.owner),
            a.target_metric,
            f"{a.starts_on:%Y-%m}",
            f"{a.ends_on:%Y-%m}" if a.ends_on else "",
            a.get_status_display(),
            f"{a.last_month:%Y-%m}" if a.last_month else "",
            ratings.get(a.last_rating, ""),
            _("yes") if _is_due(a, month) else "",
        ),
    )


def _is_due(action: ImprovementAction, month: Any) -> bool:
    return (
        action.status == ImprovementAction.Status.ACTIVE
        and action.starts_on <= month
        and (action.ends_on is None or action.ends_on >= month)
        and not action.evaluated_now
    )


@login_required
@require_GET
def improvement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = fetch(request, ImprovementAction.objects.select_related("owner", "created_by"), pk)
    action = access.obj
    month = planning.month_start(timezone.localdate())
    evaluations = list(action.evaluations.select_related("evaluated_by"))
    can_evaluate = access.can_change and request.user.has_perm("reports.add_improvementevaluation")
    done_months = {e.month for e in evaluations}
    return render(
        request,
        "reports/planning/improvement_detail.html",
        {
            "action": action,
            "access": access,
            "evaluations": evaluations,
            "month": month,
            "due": action.status == ImprovementAction.Status.ACTIVE
            and action.starts_on <= month
            and (action.ends_on is None or action.ends_on >= month)
            and month not in done_months,
            "form": EvaluationForm(initial={"month": month}, prefix="e") if can_evaluate else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def improvement_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "reports.add_improvementaction")
    form = ActionForm(
        request.POST or None,
        by=request.user,
        initial={"starts_on": planning.month_start(timezone.localdate())},
    )
    return form_page(
        request,
        form=form,
        save=lambda f: planning.action_create(by=request.user, **f.values()),
        template=FORM,
        context={
            "title": _("New improvement action"),
            "cancel": reverse("reports:improvement-list"),
        },
        success=_("The improvement action was added."),
        to=lambda a: a.get_absolute_url(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def improvement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return edit_page(
        request,
        ImprovementAction.objects.all(),
        pk,
        form_class=ActionForm,
        save=lambda f, action: planning.action_update(
            by=request.user,
            action=action,
            expected_version=f.cleaned_data.get("version"),
            **f.values(),
        ),
        success=_("The improvement action was saved."),
    )


@login_required
@require_POST
def improvement_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return delete_page(
        request,
        ImprovementAction.objects.all(),
        pk,
        success=_("The improvement action was deleted."),
        to="reports:improvement-list",
    )


@login_required
@require_POST
def improvement_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    action = fetch(request, ImprovementAction.objects.all(), pk, change=True).obj
    require_perm(request, "reports.add_improvementevaluation")
    form = EvaluationForm(request.POST, prefix="e")
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(action.get_absolute_url())
    return run_action(
        request,
        lambda: planning.evaluation_save(by=request.user, action=action, **form.values()),
        success=_("The month's evaluation was recorded."),
        to=action.get_absolute_url(),
    )
