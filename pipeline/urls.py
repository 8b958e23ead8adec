from django.urls import path

from pipeline.views import activities as activity_views
from pipeline.views import events as event_views
from pipeline.views import products as product_views
from pipeline.views import targets as target_views

app_name = "pipeline"

urlpatterns: list = []

# --- activities, visit cadence, products, targets (pipeline-activities) -------------
urlpatterns += [
    path("activities/", activity_views.activity_list, name="activity-list"),
    path("activities/new/", activity_views.activity_create, name="activity-create"),
    path("activities/quick/", activity_views.activity_quick, name="activity-quick"),
    path("activities/calendar/", activity_views.activity_calendar, name="activity-calendar"),
    path("activities/pick/client/", activity_views.pick_client, name="activity-pick-client"),
    path("activities/pick/lead/", activity_views.pick_lead, name="activity-pick-lead"),
    path("activities/links/", activity_views.activity_links, name="activity-links"),
    path("activities/<int:pk>/", activity_views.activity_detail, name="activity-detail"),
    path("activities/<int:pk>/edit/", activity_views.activity_edit, name="activity-edit"),
    path(
        "activities/<int:pk>/complete/",
        activity_views.activity_complete,
        name="activity-complete",
    ),
    path("activities/<int:pk>/delete/", activity_views.activity_delete, name="activity-delete"),
    path("cadence/", activity_views.cadence, name="cadence"),
    path("products/", product_views.product_list, name="product-list"),
    path("products/new/", product_views.product_create, name="product-create"),
    path("products/<int:pk>/", product_views.product_detail, name="product-detail"),
    path("products/<int:pk>/edit/", product_views.product_edit, name="product-edit"),
    path("products/<int:pk>/materials/", product_views.material_upload, name="material-upload"),
    path(
        "materials/<int:pk>/download/",
        product_views.material_download,
        name="material-download",
    ),
    path("materials/<int:pk>/delete/", product_views.material_delete, name="material-delete"),
    path("targets/", target_views.target_list, name="target-list"),
    path("targets/new/", target_views.target_create, name="target-create"),
    path("targets/breakdown/", target_views.target_breakdown, name="target-breakdown"),
    path("targets/<int:pk>/edit/", target_views.target_edit, name="target-edit"),
    path("targets/<int:pk>/delete/", target_views.target_delete, name="target-delete"),
    path("events/", event_views.event_list, name="event-list"),
    path("events/new/", event_views.event_create, name="event-create"),
    path("events/<int:pk>/edit/", event_views.event_edit, name="event-edit"),
]
# --- end pipeline-activities -----------------------------------------------------------
