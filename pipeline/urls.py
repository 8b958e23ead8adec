from django.urls import path

from pipeline.views import contracts as contract_views
from pipeline.views import projects as project_views
from pipeline.views import quotes as quote_views

app_name = "pipeline"

urlpatterns: list = []

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
