from django.urls import path

from reports import views
from reports.planning_urls import urlpatterns as planning_urlpatterns  # reports-planning

app_name = "reports"

urlpatterns = [
    # planning and team tools, weekly reports (reports-planning): before <slug:role>/
    *planning_urlpatterns,
    path("<slug:role>/", views.home, name="home"),
]
