"""URLs of the planning and team tools and the weekly sales report (reports-planning).

Included at the top of ``reports/urls.py`` (before the role home pages, whose
``<slug:role>/`` would otherwise catch them), so every name is ``reports:...``.
"""

from django.urls import path

from reports import views_planning as plan_views
from reports import views_team as team_views
from reports import views_weekly as weekly_views

urlpatterns = [
    # --- sales plans
    path("plans/", plan_views.plan_list, name="plan-list"),
    path("plans/new/", plan_views.plan_create, name="plan-create"),
    path("plans/<int:pk>/", plan_views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", plan_views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/delete/", plan_views.plan_delete, name="plan-delete"),
    path("plans/<int:pk>/targets/", plan_views.plan_targets, name="plan-targets"),
    path(
        "plans/<int:pk>/milestones/new/",
        plan_views.milestone_create,
        name="plan-milestone-create",
    ),
    path("plan-milestones/<int:pk>/edit/", plan_views.milestone_edit, name="plan-milestone-edit"),
    path(
        "plan-milestones/<int:pk>/status/",
        plan_views.milestone_status,
        name="plan-milestone-status",
    ),
    path(
        "plan-milestones/<int:pk>/delete/",
        plan_views.milestone_delete,
        name="plan-milestone-delete",
    ),
    # --- market research
    path("research/competitors/", plan_views.competitor_list, name="competitor-list"),
    path("research/competitors/new/", plan_views.competitor_create, name="competitor-create"),
    path("research/competitors/<int:pk>/", plan_views.competitor_detail, name="competitor-detail"),
    path(
        "research/competitors/<int:pk>/edit/",
        plan_views.competitor_edit,
        name="competitor-edit",
    ),
    path(
        "research/competitors/<int:pk>/delete/",
        plan_views.competitor_delete,
        name="competitor-delete",
    ),
    path("research/analyses/", plan_views.analysis_list, name="analysis-list"),
    path("research/analyses/new/", plan_views.analysis_create, name="analysis-create"),
    path("research/analyses/<int:pk>/", plan_views.analysis_detail, name="analysis-detail"),
    path("research/analyses/<int:pk>/edit/", plan_views.analysis_edit, name="analysis-edit"),
    path("research/analyses/<int:pk>/delete/", plan_views.analysis_delete, name="analysis-delete"),
    # --- risk register
    path("risks/", plan_views.risk_list, name="risk-list"),
    path("risks/new/", plan_views.risk_create, name="risk-create"),
    path("risks/<int:pk>/", plan_views.risk_detail, name="risk-detail"),
    path("risks/<int:pk>/edit/", plan_views.risk_edit, name="risk-edit"),
    path("risks/<int:pk>/delete/", plan_views.risk_delete, name="risk-delete"),
    # --- improvement actions
    path("improvements/", plan_views.improvement_list, name="improvement-list"),
    path("improvements/new/", plan_views.improvement_create, name="improvement-create"),
    path("improvements/<int:pk>/", plan_views.improvement_detail, name="improvement-detail"),
    path("improvements/<int:pk>/edit/", plan_views.improvement_edit, name="improvement-edit"),
    path(
        "improvements/<int:pk>/delete/",
        plan_views.improvement_delete,
        name="improvement-delete",
    ),
    path(
        "improvements/<int:pk>/evaluate/",
        plan_views.improvement_evaluate,
        name="improvement-evaluate",
    ),
    # --- team building
    path("team/reviews/", team_views.review_list, name="review-list"),
    path("team/reviews/new/", team_views.review_create, name="review-create"),
    path("team/reviews/<int:pk>/", team_views.review_detail, name="review-detail"),
    path("team/reviews/<int:pk>/edit/", team_views.review_edit, name="review-edit"),
    path("team/reviews/<int:pk>/share/", team_views.review_share, name="review-share"),
    path(
        "team/reviews/<int:pk>/acknowledge/",
        team_views.review_acknowledge,
        name="review-acknowledge",
    ),
    path("team/reviews/<int:pk>/delete/", team_views.review_delete, name="review-delete"),
    path("team/training/", team_views.training_list, name="training-list"),
    path("team/training/new/", team_views.training_create, name="training-create"),
    path("team/training/<int:pk>/edit/", team_views.training_edit, name="training-edit"),
    path("team/training/<int:pk>/delete/", team_views.training_delete, name="training-delete"),
    path("team/skills/", team_views.skill_matrix, name="skill-matrix"),
    path("team/skills/new/", team_views.skill_create, name="skill-create"),
    path("team/skills/<int:user_pk>/", team_views.skill_person, name="skill-person"),
    path(
        "team/skills/assessments/<int:pk>/delete/",
        team_views.skill_delete,
        name="skill-delete",
    ),
    # --- weekly sales reports
    path("weekly-report/", weekly_views.weekly_report, name="weekly-report"),
    path("weekly-reports/", weekly_views.weekly_report_list, name="weekly-report-list"),
    path("weekly-reports/team/", weekly_views.weekly_team, name="weekly-team"),
    path(
        "weekly-reports/<int:pk>/",
        weekly_views.weekly_report_detail,
        name="weekly-report-detail",
    ),
    path(
        "weekly-reports/<int:pk>/comment/",
        weekly_views.weekly_report_comment,
        name="weekly-report-comment",
    ),
    path(
        "weekly-reports/<int:pk>/delete/",
        weekly_views.weekly_report_delete,
        name="weekly-report-delete",
    ),
]
