"""Factories for the planning, team and weekly-report tests (reports-planning)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from pipeline.models import Target
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


class SalesPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesPlan

    title = factory.Sequence(lambda n: f"Plan {n}")
    period = Target.Period.QUARTER
    period_start = date(2026, 10, 1)
    growth_percent = Decimal("15")
    target_revenue = Decimal("1000000")
    budget = Decimal("50000")


class PlanMilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanMilestone

    plan = factory.SubFactory(SalesPlanFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due_date = date(2026, 11, 15)


class CompetitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competitor

    name = factory.Sequence(lambda n: f"Rival {n}")
    strengths = "Cheap"
    weaknesses = "Slow support"


class MarketAnalysisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketAnalysis

    kind = MarketAnalysis.Kind.SWOT
    title = factory.Sequence(lambda n: f"Analysis {n}")
    content = factory.LazyFunction(
        lambda: {
            "strengths": ["Service"],
            "weaknesses": ["Price"],
            "opportunities": ["Tier-2 cities"],
            "threats": ["New entrant"],
        }
    )


class RiskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Risk

    title = factory.Sequence(lambda n: f"Risk {n}")
    category = Risk.Category.MARKET
    likelihood = 3
    impact = 3
    response = Risk.Response.REDUCE
    owner = factory.SelfAttribute("created_by")
    review_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class ImprovementActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImprovementAction

    title = factory.Sequence(lambda n: f"Action {n}")
    owner = factory.SelfAttribute("created_by")
    target_metric = "visit conversion ≥ 30%"
    starts_on = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))


class ImprovementEvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImprovementEvaluation

    action = factory.SubFactory(ImprovementActionFactory)
    month = factory.LazyFunction(lambda: timezone.localdate().replace(day=1))
    result = "27%"
    rating = ImprovementEvaluation.Rating.ON_TRACK


class PerformanceReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PerformanceReview

    period = Target.Period.QUARTER
    period_start = date(2026, 7, 1)
    rating_results = 3
    rating_activity = 4
    rating_customer = 3
    rating_teamwork = 4
    rating_overall = 3
    strengths = "Persistent"
    status = PerformanceReview.Status.SHARED


class TrainingRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingRecord

    course = factory.Sequence(lambda n: f"Course {n}")
    taken_on = date(2026, 9, 10)
    hours = Decimal("8")
    result = TrainingRecord.Result.PASSED


class SkillAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkillAssessment

    assessed_on = date(2026, 9, 30)
    leadership = 70
    communication = 85
    negotiation = 80
    analysis = 60


class WeeklyReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WeeklyReport

    week_start = factory.LazyFunction(
        lambda: timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    )
    customer_feedback = "Happy with the demo"
