from django.urls import path

from pipeline.views import activities as activity_views
from pipeline.views import contracts as contract_views
from pipeline.views import deals as deal_views
from pipeline.views import events as event_views
from pipeline.views import leads as lead_views
from pipeline.views import products as product_views
from pipeline.views import projects as project_views
from pipeline.views import quotes as quote_views
from pipeline.views import signup as signup_views
from pipeline.views import stages as stage_views
from pipeline.views import targets as target_views

app_name = "pipeline"

urlpatterns: list = [
    # --- leads, deals and stages (pipeline-sales)
    path("leads/", lead_views.lead_list, name="lead-list"),
    path("leads/new/", lead_views.lead_create, name="lead-create"),
    path("leads/duplicates/", lead_views.lead_duplicates, name="lead-duplicates"),
    path("leads/<int:pk>/", lead_views.lead_detail, name="lead-detail"),
    path("leads/<int:pk>/edit/", lead_views.lead_edit, name="lead-edit"),
    path("leads/<int:pk>/status/", lead_views.lead_status, name="lead-status"),
    path("leads/<int:pk>/convert/", lead_views.lead_convert, name="lead-convert"),
    path("leads/<int:pk>/delete/", lead_views.lead_delete, name="lead-delete"),
    path("signup/", signup_views.lead_signup, name="lead-signup"),
    path("signup/thanks/", signup_views.lead_signup_thanks, name="lead-signup-thanks"),
    path("deals/", deal_views.deal_list, name="deal-list"),
    path("deals/board/", deal_views.deal_board, name="deal-board"),
    path("deals/new/", deal_views.deal_create, name="deal-create"),
    path("deals/clients/", deal_views.client_options, name="client-options"),
    path("deals/<int:pk>/", deal_views.deal_detail, name="deal-detail"),
    path("deals/<int:pk>/edit/", deal_views.deal_edit, name="deal-edit"),
    path("deals/<int:pk>/move/", deal_views.deal_move, name="deal-move"),
    path("deals/<int:pk>/won/", deal_views.deal_won, name="deal-won"),
    path("deals/<int:pk>/lost/", deal_views.deal_lost, name="deal-lost"),
    path("deals/<int:pk>/reopen/", deal_views.deal_reopen, name="deal-reopen"),
    path("deals/<int:pk>/delete/", deal_views.deal_delete, name="deal-delete"),
    path("stages/", stage_views.stage_list, name="stage-list"),
    # --- end of pipeline-sales
]

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

# ---- quotes, contracts and delivery projects (pipeline-quotes) ---------------------
urlpatterns += [
    path("quotes/", quote_views.quote_list, name="quote-list"),
    path("quotes/new/", quote_views.quote_new, name="quote-new"),
    path("quotes/<int:pk>/", quote_views.quote_detail, name="quote-detail"),
    path("quotes/<int:pk>/edit/", quote_views.quote_edit, name="quote-edit"),
    path("quotes/<int:pk>/print/", quote_views.quote_print, name="quote-print"),
    path(
        "quotes/<int:pk>/<slug:action>/",
        quote_views.quote_action,
        name="quote-action",
    ),
    path("deals/<int:deal_pk>/quotes/new/", quote_views.quote_create, name="quote-create"),
    path("approvals/", quote_views.approval_list, name="approval-list"),
    path("contracts/", contract_views.contract_list, name="contract-list"),
    path("contracts/new/", contract_views.contract_new, name="contract-new"),
    path("contracts/renewals/", contract_views.renewal_list, name="renewal-list"),
    path("contracts/<int:pk>/", contract_views.contract_detail, name="contract-detail"),
    path("contracts/<int:pk>/edit/", contract_views.contract_edit, name="contract-edit"),
    path(
        "contracts/<int:pk>/transition/",
        contract_views.contract_transition,
        name="contract-transition",
    ),
    path("contracts/<int:pk>/renew/", contract_views.contract_renew, name="contract-renew"),
    path("contracts/<int:pk>/delete/", contract_views.contract_delete, name="contract-delete"),
    path(
        "contracts/<int:pk>/files/",
        contract_views.contract_file_upload,
        name="contract-file-upload",
    ),
    path(
        "contracts/files/<int:pk>/",
        contract_views.contract_file_download,
        name="contract-file-download",
    ),
    path(
        "contracts/files/<int:pk>/delete/",
        contract_views.contract_file_delete,
        name="contract-file-delete",
    ),
    path(
        "deals/<int:deal_pk>/contracts/new/",
        contract_views.contract_create,
        name="contract-create",
    ),
    path("projects/", project_views.project_list, name="project-list"),
    path("projects/new/", project_views.project_new, name="project-new"),
    path("projects/<int:pk>/", project_views.project_detail, name="project-detail"),
    path("projects/<int:pk>/timeline/", project_views.project_timeline, name="project-timeline"),
    path("projects/<int:pk>/edit/", project_views.project_edit, name="project-edit"),
    path(
        "projects/<int:pk>/transition/",
        project_views.project_transition,
        name="project-transition",
    ),
    path("projects/<int:pk>/delete/", project_views.project_delete, name="project-delete"),
    path(
        "projects/<int:pk>/milestones/new/",
        project_views.milestone_create,
        name="milestone-create",
    ),
    path("projects/<int:pk>/tasks/new/", project_views.task_create, name="task-create"),
    path("milestones/overdue/", project_views.milestones_overdue, name="milestones-overdue"),
    path("milestones/<int:pk>/edit/", project_views.milestone_edit, name="milestone-edit"),
    path("milestones/<int:pk>/done/", project_views.milestone_done, name="milestone-done"),
    path("milestones/<int:pk>/delete/", project_views.milestone_delete, name="milestone-delete"),
    path("tasks/<int:pk>/edit/", project_views.task_edit, name="task-edit"),
    path("tasks/<int:pk>/toggle/", project_views.task_toggle, name="task-toggle"),
    path("tasks/<int:pk>/delete/", project_views.task_delete, name="task-delete"),
    path(
        "deals/<int:deal_pk>/projects/new/",
        project_views.project_create,
        name="project-create",
    ),
]
# ---- end of quotes, contracts and delivery projects --------------------------------
