from django.urls import path

from reports import operations, views

app_name = "reports"

urlpatterns = [
    # --- operations page (care-jobs); before the role pages, whose slug would match
    path("operations/", operations.operations, name="operations"),
    path("operations/health/", operations.health, name="operations-health"),
    path("operations/jobs/<slug:job>/", operations.job_history, name="operations-job"),
    path("operations/jobs/<slug:job>/run/", operations.job_run_now, name="operations-run"),
    # --- end operations page
    path("<slug:role>/", views.home, name="home"),
]
