from django.urls import path

from reports import operations
from reports.dashboards import views as dashboards
from reports.planning_urls import urlpatterns as planning_urlpatterns

app_name = "reports"

urlpatterns = [
    # planning and team tools, weekly reports (reports-planning): before <slug:role>/
    *planning_urlpatterns,
    # --- operations page (care-jobs); before the role pages, whose slug would match
    path("operations/", operations.operations, name="operations"),
    path("operations/health/", operations.health, name="operations-health"),
    path("operations/jobs/<slug:job>/", operations.job_history, name="operations-job"),
    path("operations/jobs/<slug:job>/run/", operations.job_run_now, name="operations-run"),
    # --- end operations page
    path("records/<slug:kpi>/", dashboards.records, name="records"),
    path("<slug:role>/", dashboards.home, name="home"),
]
