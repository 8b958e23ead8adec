"""Demo planning and team records for ``seed_demo`` (reports-planning).

What it writes, relative to today: each region's sales plan for this quarter
(15% over last quarter's won revenue, shared with the region, with an
execution plan) and the company's plan for the year; competitors and
structured analyses (SWOT, PEST, five forces, a persona); a risk register per
region (one review overdue); improvement actions evaluated monthly (this
month's evaluation still due); last quarter's performance reviews, training
records and two skill assessments per person; and the reps' weekly sales
reports for the last four weeks — submitted with the figures of their real
pipeline activity, one missing, some commented — plus this week's draft for
``rep1``.

Idempotent by natural keys (a plan per team and period, a review per person
and period, a report per rep and week, titles per author), deterministic per
``--seed``, and fast: rows are bulk-inserted, and notifications are not sent
(this is history, not news).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Role, Team, User
from pipeline.services import targets as target_rules
from reports import planning, weekly
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
    WeeklyReportComment,
)
from salesorg.lib.seeding import SeedContext

# --------------------------------------------------------------------- demo texts
# Data, not interface strings (they are not translated).
MILESTONES = [
    ("Regional trade show: booth and 40 qualified leads", 20),
    ("Key-account reviews with every AM", 35),
    ("New pricing sheet and demo deck rolled out", 10),
    ("Quarterly satisfaction survey sent and followed up", 55),
    ("Pipeline review: every deal in negotiation has a close plan", 70),
]
COMPETITORS = [
    (
        "Kingdee",
        "Strong brand with SMEs; wide partner network; cloud ERP at low entry price.",
        "Weak in discrete manufacturing; customisation is slow and costly.",
        "Subscription from ¥30,000 a year; heavy discounts at quarter end.",
    ),
    (
        "Yonyou",
        "Large installed base in state-owned enterprises; full suite.",
        "Long implementations; clients complain about support response times.",
        "Licence plus 22% yearly maintenance; project fees on top.",
    ),
    (
        "SAP",
        "Global reference customers; strong in multinational subsidiaries.",
        "Expensive; few local consultants outside tier-1 cities.",
        "Premium; RISE bundles from ¥1.5M over three years.",
    ),
    (
        "Local integrator",
        "Cheap, close to the client, builds whatever is asked.",
        "No product roadmap; key-person risk; quality varies.",
        "Day rates ¥2,500–4,000; fixed-price bids below cost to win.",
    ),
]
RISKS = [
    ("Key account may switch to a cheaper competitor", "competition", 3, 5, "reduce"),
    ("Steel price rise delays clients' capital spending", "market", 4, 3, "accept"),
    ("Large receivable overdue at a distributor", "credit", 2, 4, "transfer"),
    ("Senior rep may leave for a competitor", "people", 2, 5, "reduce"),
    ("Data-privacy rules change tender requirements", "compliance", 3, 3, "avoid"),
    ("Go-live slips on the biggest delivery project", "delivery", 4, 4, "reduce"),
]
RESPONSE_PLANS = {
    "reduce": "Weekly check-ins, executive sponsor visit, value review before renewal.",
    "accept": "Monitor monthly; adjust the forecast if orders slip.",
    "transfer": "Credit insurance on new orders; payment terms tightened.",
    "avoid": "Legal review of tender terms before we bid.",
}
ACTIONS = [
    ("Raise visit conversion", "visit conversion ≥ 30%"),
    ("Shorten the negotiation cycle", "negotiation cycle ≤ 30 days"),
    ("Answer every complaint within 24 hours", "complaint SLA ≥ 95%"),
]
RESULTS = ["26%", "28%", "29%", "31%", "33 days", "31 days", "29 days", "92%", "94%", "97%"]
COURSES = [
    ("Consultative selling with SPIN", "Sales Academy", Decimal("16")),
    ("Negotiation: from BATNA to close", "Sales Academy", Decimal("12")),
    ("Product certification: Smart Factory MES", "Product team", Decimal("8")),
    ("Presenting value with FAB", "Sales Academy", Decimal("6")),
    ("Leading a sales team", "Management School", Decimal("24")),
    ("Data-driven pipeline reviews", "Analytics team", Decimal("4")),
]
FEEDBACK = [
    "The plant manager liked the demo; IT wants to see the integration with their ERP.",
    "Client asked for references in the automotive sector.",
    "Purchasing says our price is 10% above the budget; value case needed.",
    "Two clients mentioned slow answers from support last month.",
    "Good reception of the new analytics module; a pilot is likely.",
]
MARKET = [
    "Several clients postpone capital spending until the steel price settles.",
    "Local government subsidies for digital factories announced for next year.",
    "Trade show traffic was higher than last year; many small manufacturers.",
    "Export-oriented clients are cautious because of exchange rates.",
]
COMPETITOR_NEWS = [
    "Kingdee offered a 20% discount to one of our prospects.",
    "A local integrator won the tender at Ningbo Valves with a very low bid.",
    "Yonyou announced a new cloud MES; no reference customers yet.",
    "No competitor activity seen this week.",
]
FORECASTS = [
    "Expect to close the MES expansion; second visit planned at two prospects.",
    "Proposal due for the WMS project; negotiation continues on the ERP renewal.",
    "Focus on follow-up calls after the trade show; one demo booked.",
    "Contract signature expected Thursday if legal review passes.",
]
COMMENTS = [
    "Good week. Bring the plant manager to our reference site.",
    "Push for a decision date on the ERP renewal.",
    "Let's review the pricing objection together on Monday.",
    "Please log the trade-show leads today so they get called this week.",
]


def _rng(ctx: SeedContext, key: str) -> random.Random:
    return random.Random(f"{ctx.seed}/reports-planning/{key}")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _regions() -> list[tuple[Team, User]]:
    """Regions with their manager, in path order."""
    return [
        (team, team.manager)
        for team in Team.objects.filter(kind=Team.Kind.REGION, manager__isnull=False)
        .select_related("manager")
        .order_by("path")
    ]


def _below(manager: User) -> list[User]:
    return list(
        User.objects.active()
        .filter(path__startswith=manager.path, role__in=(Role.ACCOUNT_MANAGER, Role.REP))
        .order_by("path")
    )


# ----------------------------------------------------------------------- plans
def seed_plans(ctx: SeedContext, today: date) -> int:
    made = 0
    quarter = target_rules.period_start_for("quarter", today)
    director = ctx.users.get("director") or User.objects.filter(role=Role.DIRECTOR).first()
    plans: list[tuple[SalesPlan, User]] = []
    for region, manager in _regions():
        plan = SalesPlan.objects.filter(team=region, period="quarter", period_start=quarter).first()
        if plan is None:
            plan = planning.plan_create(
                by=manager,
                title=f"{region.name} plan {target_rules.period_label('quarter', quarter)}",
                team=region,
                period="quarter",
                period_start=quarter,
                growth_percent=Decimal("15"),
                budget=Decimal("180000"),
                budget_notes="Trade show ¥80,000 · client events ¥60,000 · travel ¥40,000",
                resource_notes="Two reps on new-logo hunting in tier-2 cities; AMs own renewals "
                "and up-sell on key accounts; support prepares the trade show.",
                market_notes="Manufacturing clients invest in digital factories despite "
                "cautious capital spending; competitors discount hard at quarter end.",
                status=SalesPlan.Status.ACTIVE,
                shared=True,
            )
            made += 1
        plans.append((plan, manager))
    year = date(today.year, 1, 1)
    if (
        director is not None
        and not SalesPlan.objects.filter(
            team__isnull=True, period="year", period_start=year
        ).exists()
    ):
        plan = planning.plan_create(
            by=director,
            title=f"Company sales plan {today.year}",
            team=None,
            period="year",
            period_start=year,
            growth_percent=Decimal("15"),
            budget=Decimal("1200000"),
            resource_notes="Open two regions' second teams; hire four reps in the first half.",
            status=SalesPlan.Status.ACTIVE,
            shared=True,
        )
        plans.append((plan, director))
        made += 1
    rows = []
    for plan, manager in plans:
        if plan.milestones.exists():
            continue
        people = _below(manager) or [manager]
        rng = _rng(ctx, f"milestones/{plan.pk}")
        for i, (title, offset) in enumerate(MILESTONES):
            due = plan.period_start + timedelta(days=offset)
            rows.append(
                PlanMilestone(
                    plan=plan,
                    title=title,
                    owner=people[i % len(people)],
                    due_date=due,
                    status=PlanMilestone.Status.DONE
                    if due < today - timedelta(days=3)
                    else rng.choice(
                        [PlanMilestone.Status.PLANNED, PlanMilestone.Status.IN_PROGRESS]
                    ),
                )
            )
    PlanMilestone.objects.bulk_create(rows)
    return made


# -------------------------------------------------------------------- research
def seed_research(ctx: SeedContext, today: date) -> int:
    made = 0
    regions = _regions()
    existing = set(Competitor.objects.values_list("author_id", "name"))
    rows = []
    for region, manager in regions:
        for name, strengths, weaknesses, pricing in COMPETITORS:
            if (manager.pk, name) in existing:
                continue
            rows.append(
                Competitor(
                    author=manager,
                    name=name,
                    strengths=strengths,
                    weaknesses=weaknesses,
                    pricing=pricing,
                    notes=f"Seen most often in {region.name}.",
                    team=region,
                    shared=True,
                )
            )
    Competitor.objects.bulk_create(rows)
    made += len(rows)

    analyses: list[tuple[User, str, str, Team | None, dict[str, Any], str]] = []
    director = ctx.users.get("director") or User.objects.filter(role=Role.DIRECTOR).first()
    if director is not None:
        analyses.append(
            (
                director,
                MarketAnalysis.Kind.PEST,
                "PEST: manufacturing in East China",
                None,
                {
                    "political": ["Subsidies for digital factories", "Data-security law"],
                    "economic": ["Steel price volatility", "Export demand softening"],
                    "social": ["Ageing skilled workforce", "Young engineers expect mobile tools"],
                    "technological": ["Cheap industrial IoT sensors", "AI quality inspection"],
                },
                "Automation demand grows despite cautious capital spending.",
            )
        )
    for region, manager in regions:
        analyses += [
            (
                manager,
                MarketAnalysis.Kind.SWOT,
                f"SWOT {region.name}",
                region,
                {
                    "strengths": ["Local delivery team", "MES references in auto parts"],
                    "weaknesses": ["Price above local integrators", "Few AMs for key accounts"],
                    "opportunities": ["Tier-2 cities' industrial parks", "Renewals up-sell"],
                    "threats": ["Quarter-end discounting by competitors", "Budget freezes"],
                },
                "Lead with references and total cost of ownership, not price.",
            ),
            (
                manager,
                MarketAnalysis.Kind.FIVE_FORCES,
                f"Five forces: factory software in {region.name}",
                region,
                {
                    "rivalry": {"rating": 4, "notes": "Four serious vendors plus integrators."},
                    "new_entrants": {"rating": 2, "notes": "References take years to build."},
                    "substitutes": {"rating": 3, "notes": "Spreadsheets and in-house tools."},
                    "buyer_power": {"rating": 4, "notes": "Tenders and group purchasing."},
                    "supplier_power": {"rating": 2, "notes": "Cloud capacity is a commodity."},
                },
                "Compete on outcomes and service; avoid pure price tenders.",
            ),
            (
                manager,
                MarketAnalysis.Kind.PERSONA,
                "Persona: plant manager of a mid-sized manufacturer",
                region,
                {
                    "profile": ["Engineer, 40–50, 15 years in the plant"],
                    "needs": ["On-time delivery", "Fewer quality escapes"],
                    "pain_points": ["Paper reports a day late", "Unplanned stoppages"],
                    "buying_criteria": ["References nearby", "Fast go-live", "Local support"],
                    "how_we_match": ["MES live in 12 weeks", "Reference visits in the region"],
                },
                "Sell the morning meeting with real-time numbers.",
            ),
        ]
    existing_titles = set(MarketAnalysis.objects.values_list("author_id", "title"))
    rows = [
        MarketAnalysis(
            author=author,
            kind=kind,
            title=title,
            team=team,
            shared=True,
            content=planning.clean_content(kind, content),
            summary=summary,
        )
        for author, kind, title, team, content, summary in analyses
        if (author.pk, title) not in existing_titles
    ]
    MarketAnalysis.objects.bulk_create(rows)
    return made + len(rows)


# ---------------------------------------------------------------------- risks
def seed_risks(ctx: SeedContext, today: date) -> int:
    existing = set(Risk.objects.values_list("created_by_id", "title"))
    rows = []
    for region, manager in _regions():
        people = _below(manager) or [manager]
        rng = _rng(ctx, f"risks/{region.pk}")
        for i, (title, category, likelihood, impact, response) in enumerate(RISKS):
            if (manager.pk, title) in existing:
                continue
            status = Risk.Status.CLOSED if i == 4 else rng.choice(["open", "open", "monitoring"])
            # one review overdue in each region, the others due in the coming weeks
            review = today - timedelta(days=5) if i == 0 else today + timedelta(days=7 * (i + 1))
            rows.append(
                Risk(
                    title=title,
                    description=f"Identified in the {region.name} pipeline review.",
                    category=category,
                    likelihood=likelihood,
                    impact=impact,
                    response=response,
                    response_plan=RESPONSE_PLANS[response],
                    owner=people[i % len(people)] if i % 3 else manager,
                    created_by=manager,
                    review_date=review,
                    status=status,
                )
            )
    Risk.objects.bulk_create(rows)
    return len(rows)


# ---------------------------------------------------------------- improvements
def seed_improvements(ctx: SeedContext, today: date) -> int:
    this_month = planning.month_start(today)
    first = planning.month_start(planning.month_start(this_month - timedelta(days=80)))
    existing = set(ImprovementAction.objects.values_list("created_by_id", "title"))
    made: list[ImprovementAction] = []
    for region, manager in _regions():
        people = _below(manager) or [manager]
        for i, (title, metric) in enumerate(ACTIONS):
            if (manager.pk, title) in existing:
                continue
            made.append(
                ImprovementAction.objects.create(
                    title=title,
                    description=f"Agreed in the {region.name} monthly review.",
                    owner=people[i % len(people)] if i else manager,
                    created_by=manager,
                    target_metric=metric,
                    starts_on=first,
                )
            )
    rows = []
    for action in made:
        rng = _rng(ctx, f"evaluations/{action.title}/{action.created_by_id}")
        month = action.starts_on
        while month < this_month:  # this month's evaluation is still due
            rows.append(
                ImprovementEvaluation(
                    action=action,
                    month=month,
                    result=rng.choice(RESULTS),
                    rating=rng.choice([2, 3, 3, 4]),
                    notes="",
                    evaluated_by=action.created_by,
                )
            )
            month = planning.month_start(month + timedelta(days=32))
    ImprovementEvaluation.objects.bulk_create(rows, ignore_conflicts=True)
    return len(made)


# ------------------------------------------------------------------ team building
def seed_team(ctx: SeedContext, today: date) -> int:
    last_quarter = planning.previous_period_start(
        "quarter", target_rules.period_start_for("quarter", today)
    )
    reviews, training, skills = [], [], []
    done_reviews = set(
        PerformanceReview.objects.filter(period="quarter", period_start=last_quarter).values_list(
            "person_id", flat=True
        )
    )
    done_training = set(TrainingRecord.objects.values_list("person_id", "course"))
    assessed = set(SkillAssessment.objects.values_list("person_id", flat=True).distinct())
    for _region, manager in _regions():
        for n, person in enumerate(_below(manager)):
            rng = _rng(ctx, f"team/{person.username}")
            if person.pk not in done_reviews:
                ratings = [rng.choice([2, 3, 3, 4, 4, 5]) for _ in range(4)]
                status = (
                    PerformanceReview.Status.ACKNOWLEDGED
                    if n % 3 == 0
                    else PerformanceReview.Status.SHARED
                    if n % 3 == 1
                    else PerformanceReview.Status.DRAFT
                )
                reviews.append(
                    PerformanceReview(
                        person=person,
                        reviewer=manager,
                        period="quarter",
                        period_start=last_quarter,
                        rating_results=ratings[0],
                        rating_activity=ratings[1],
                        rating_customer=ratings[2],
                        rating_teamwork=ratings[3],
                        rating_overall=round(sum(ratings) / 4),
                        strengths="Persistent follow-up; clients trust them.",
                        improvements="Qualify earlier; fewer deals stuck in proposal.",
                        feedback="Keep the visit rhythm and prepare negotiations with a "
                        "clear bottom line.",
                        status=status,
                        acknowledged_at=_at(last_quarter + timedelta(days=100), 10)
                        if status == PerformanceReview.Status.ACKNOWLEDGED
                        else None,
                        person_comment="Agreed; I will ask for help on pricing."
                        if status == PerformanceReview.Status.ACKNOWLEDGED
                        else "",
                    )
                )
            rng = _rng(ctx, f"training/{person.username}")
            courses = rng.sample(COURSES, 2 if person.role == Role.REP else 3)
            for k, (course, provider, hours) in enumerate(courses):
                taken = today - timedelta(days=30 + 45 * k + rng.randint(0, 20))
                score = rng.randint(70, 98)
                result = rng.choice(["passed", "passed", "attended"])
                if (person.pk, course) in done_training:
                    continue
                training.append(
                    TrainingRecord(
                        person=person,
                        course=course,
                        provider=provider,
                        taken_on=taken,
                        hours=hours,
                        result=result,
                        score=score,
                        recorded_by=manager,
                    )
                )
            rng = _rng(ctx, f"skills/{person.username}")
            base = {
                "leadership": 75 if person.role == Role.ACCOUNT_MANAGER else 55,
                "communication": 78,
                "negotiation": 68,
                "analysis": 65,
            }
            for months_ago, growth in ((6, 0), (1, 6)) if person.pk not in assessed else ():
                skills.append(
                    SkillAssessment(
                        person=person,
                        assessed_on=today - timedelta(days=30 * months_ago),
                        assessed_by=manager,
                        **{
                            key: min(100, value + growth + rng.randint(-8, 12))
                            for key, value in base.items()
                        },
                    )
                )
    # the managers themselves, assessed by the director
    director = ctx.users.get("director") or User.objects.filter(role=Role.DIRECTOR).first()
    if director is not None:
        for _region, manager in _regions():
            if manager.pk in assessed:
                continue
            rng = _rng(ctx, f"team/{manager.username}")
            skills.append(
                SkillAssessment(
                    person=manager,
                    assessed_on=today - timedelta(days=30),
                    assessed_by=director,
                    leadership=rng.randint(78, 90),
                    communication=rng.randint(82, 94),
                    negotiation=rng.randint(70, 85),
                    analysis=rng.randint(72, 88),
                )
            )
    PerformanceReview.objects.bulk_create(reviews, ignore_conflicts=True)
    TrainingRecord.objects.bulk_create(training)
    SkillAssessment.objects.bulk_create(skills, ignore_conflicts=True)
    return len(reviews) + len(training)


# ---------------------------------------------------------------- weekly reports
def seed_weekly_reports(ctx: SeedContext, today: date) -> int:
    """The last four weeks' reports of every rep, from their real pipeline figures."""
    current = weekly.monday_of(today)
    weeks = [current - timedelta(days=7 * k) for k in range(1, 5)]
    reps = list(User.objects.active().filter(role__in=weekly.reporter_roles()).order_by("path"))
    done = set(
        WeeklyReport.objects.filter(week_start__gte=weeks[-1]).values_list("owner_id", "week_start")
    )
    rows: list[WeeklyReport] = []
    for n, rep in enumerate(reps):
        rng = _rng(ctx, f"weekly/{rep.username}")
        for k, monday in enumerate(weeks):
            if (rep.pk, monday) in done or (k == 0 and n % 4 == 1):
                continue  # one rep in four has not sent last week's report yet
            figures = weekly.week_figures(owner=rep, week_start=monday, viewer=rep)
            submitted = _at(monday + timedelta(days=4), 17, rng.randint(0, 59))
            rows.append(
                WeeklyReport(
                    owner=rep,
                    week_start=monday,
                    status=WeeklyReport.Status.SUBMITTED,
                    customer_feedback=rng.choice(FEEDBACK),
                    market_info=rng.choice(MARKET),
                    competitor_news=rng.choice(COMPETITOR_NEWS),
                    next_week_forecast=rng.choice(FORECASTS),
                    forecast_amount=Decimal(rng.randrange(50_000, 600_000, 10_000)),
                    figures=figures.to_json(),
                    submitted_at=submitted,
                )
            )
    rep1 = ctx.users.get("rep1")
    if (
        rep1 is not None
        and not WeeklyReport.objects.filter(owner=rep1, week_start=current).exists()
    ):
        rows.append(
            WeeklyReport(
                owner=rep1,
                week_start=current,
                customer_feedback="Draft: notes from Monday's visits.",
            )
        )
    WeeklyReport.objects.bulk_create(rows, ignore_conflicts=True)
    # the manager above comments on some of last week's reports
    comments = []
    commented = set(WeeklyReportComment.objects.values_list("report_id", flat=True))
    for report in (
        WeeklyReport.objects.filter(week_start=weeks[0], status=WeeklyReport.Status.SUBMITTED)
        .exclude(pk__in=commented)
        .select_related("owner__reports_to")
    ):
        boss = report.owner.reports_to
        if boss is None or report.owner_id % 2:
            continue
        rng = _rng(ctx, f"comment/{report.owner.username}/{report.week_start}")
        comments.append(WeeklyReportComment(report=report, author=boss, body=rng.choice(COMMENTS)))
    WeeklyReportComment.objects.bulk_create(comments)
    return len(rows)


def seed(ctx: SeedContext) -> None:
    today = timezone.localdate(ctx.now)
    counts = {
        "plans": seed_plans(ctx, today),
        "research notes": seed_research(ctx, today),
        "risks": seed_risks(ctx, today),
        "improvement actions": seed_improvements(ctx, today),
        "reviews and training records": seed_team(ctx, today),
        "weekly reports": seed_weekly_reports(ctx, today),
    }
    ctx.log(", ".join(f"{n} {what}" for what, n in counts.items()))
