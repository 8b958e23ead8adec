"""``/api/v1/``: every app's viewsets on one router."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from pipeline.api import activities as activity_api
from pipeline.api import deals as deal_api
from pipeline.api import leads as lead_api
from pipeline.api import products as product_api
from pipeline.api import targets as target_api

router = DefaultRouter()
router.register("users", accounts_api.UserViewSet, basename="user")
router.register("teams", accounts_api.TeamViewSet, basename="team")
# --- leads, deals and stages (pipeline-sales)
router.register("leads", lead_api.LeadViewSet, basename="lead")
router.register("deals", deal_api.DealViewSet, basename="deal")
router.register("stages", deal_api.StageViewSet, basename="stage")
# --- end of pipeline-sales
# --- activities, products, targets (pipeline-activities) ---
router.register("activities", activity_api.ActivityViewSet, basename="activity")
router.register("products", product_api.ProductViewSet, basename="product")
router.register("targets", target_api.TargetViewSet, basename="target")
# --- end pipeline-activities ---

# --- clients core (issue 3) ---
from clients import api as clients_api  # noqa: E402

router.register("clients", clients_api.ClientViewSet, basename="client")
router.register("contacts", clients_api.ContactViewSet, basename="contact")
# --- end clients core ---

# ---- quotes, contracts and delivery projects (pipeline-quotes) ---------------------
from pipeline.api import contracts as contracts_api  # noqa: E402
from pipeline.api import projects as projects_api  # noqa: E402
from pipeline.api import quotes as quotes_api  # noqa: E402

router.register("quotes", quotes_api.QuoteViewSet, basename="quote")
router.register("contracts", contracts_api.ContractViewSet, basename="contract")
router.register("projects", projects_api.ProjectViewSet, basename="project")
router.register(
    r"projects/(?P<project_pk>[0-9]+)/milestones",
    projects_api.MilestoneViewSet,
    basename="project-milestone",
)
router.register(
    r"projects/(?P<project_pk>[0-9]+)/tasks", projects_api.TaskViewSet, basename="project-task"
)
# ---- end of quotes, contracts and delivery projects --------------------------------

# --- complaints (care-complaints) ---
from clients import complaint_api  # noqa: E402

router.register("complaints", complaint_api.ComplaintViewSet, basename="complaint")
# --- end complaints ---
# ---- satisfaction surveys and NPS (care-surveys) ----------------------------------
from clients import survey_api  # noqa: E402

router.register("survey-templates", survey_api.SurveyTemplateViewSet, basename="survey-template")
router.register("surveys", survey_api.SurveyCampaignViewSet, basename="survey")
router.register("survey-responses", survey_api.SurveyResponseViewSet, basename="survey-response")
# ---- end of satisfaction surveys ---------------------------------------------------
# ---- weekly sales reports and the risk register (reports-planning) -----------------
from reports import api_planning  # noqa: E402

router.register("weekly-reports", api_planning.WeeklyReportViewSet, basename="weekly-report")
router.register("risks", api_planning.RiskViewSet, basename="risk")
# ---- end of reports-planning -------------------------------------------------------
# --- notifications (care-jobs) ---
from accounts import notification_api  # noqa: E402

router.register("notifications", notification_api.NotificationViewSet, basename="notification")
# --- end notifications ---

urlpatterns = [
    path("auth/token/", accounts_api.TokenView.as_view(), name="api-token"),
    path("me/", accounts_api.MeView.as_view(), name="api-me"),
    *router.urls,
]

# --- reports: KPIs, breakdowns, drill-down and exports (reports-kpis) ---
from reports import api as reports_api  # noqa: E402

urlpatterns += reports_api.urlpatterns
# --- end reports-kpis
