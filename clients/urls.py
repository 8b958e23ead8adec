from django.urls import path

from clients import complaint_views, data_views, survey_views
from clients.views import contacts as contact_views
from clients.views import lists as list_views
from clients.views import pages as page_views

app_name = "clients"

urlpatterns = [
    # --- list, client page, forms, contacts, sharing
    path("", list_views.client_list, name="list"),
    path("new/", page_views.client_create, name="create"),
    path("lookup/", list_views.client_lookup, name="lookup"),
    path("filters/save/", list_views.saved_filter_save, name="filter-save"),
    path("filters/<int:pk>/delete/", list_views.saved_filter_delete, name="filter-delete"),
    path(
        "key-accounts-without-am/",
        list_views.key_accounts_without_am,
        name="key-accounts-without-am",
    ),
    path("<int:pk>/", page_views.client_detail, name="detail"),
    path("<int:pk>/edit/", page_views.client_edit, name="edit"),
    path("<int:pk>/delete/", page_views.client_delete, name="delete"),
    path("<int:pk>/history/", page_views.client_history, name="history"),
    path("<int:pk>/history/<int:history_id>/revert/", page_views.client_revert, name="revert"),
    path("<int:pk>/share/", page_views.client_share, name="share"),
    path("<int:pk>/share/<int:user_id>/revoke/", page_views.client_unshare, name="unshare"),
    path(
        "<int:pk>/account-manager/",
        page_views.client_assign_account_manager,
        name="assign-account-manager",
    ),
    path("<int:pk>/contacts/new/", contact_views.contact_create, name="contact-create"),
    path("contacts/<int:pk>/edit/", contact_views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", contact_views.contact_delete, name="contact-delete"),
    # --- data quality, merge, import and export
    path("quality/", data_views.quality, name="quality"),
    path("merge/", data_views.merge, name="merge"),
    path("import/", data_views.import_upload, name="import"),
    path("import/<int:pk>/", data_views.import_detail, name="import-detail"),
    path("import/<int:pk>/errors.csv", data_views.import_errors, name="import-errors"),
    path("export/", data_views.export, name="export"),
    # --- complaints (care-complaints)
    path("complaints/", complaint_views.complaint_list, name="complaint-list"),
    path("complaints/new/", complaint_views.complaint_create, name="complaint-create"),
    path("complaints/<int:pk>/", complaint_views.complaint_detail, name="complaint-detail"),
    path("complaints/<int:pk>/edit/", complaint_views.complaint_edit, name="complaint-edit"),
    path(
        "complaints/<int:pk>/respond/",
        complaint_views.complaint_respond,
        name="complaint-respond",
    ),
    path("complaints/<int:pk>/note/", complaint_views.complaint_note, name="complaint-note"),
    path(
        "complaints/<int:pk>/resolve/",
        complaint_views.complaint_resolve,
        name="complaint-resolve",
    ),
    path("complaints/<int:pk>/close/", complaint_views.complaint_close, name="complaint-close"),
    path("complaints/<int:pk>/reopen/", complaint_views.complaint_reopen, name="complaint-reopen"),
    path(
        "complaints/<int:pk>/reassign/",
        complaint_views.complaint_reassign,
        name="complaint-reassign",
    ),
    # --- end complaints
    # --- satisfaction surveys and NPS (care-surveys)
    path("surveys/", survey_views.campaign_list, name="survey-list"),
    path("surveys/new/", survey_views.campaign_create, name="survey-campaign-create"),
    path("surveys/clients/", survey_views.client_options, name="survey-client-options"),
    path("surveys/<int:pk>/", survey_views.campaign_detail, name="survey-campaign-detail"),
    path("surveys/<int:pk>/send/", survey_views.campaign_send, name="survey-campaign-send"),
    path("surveys/<int:pk>/close/", survey_views.campaign_close, name="survey-campaign-close"),
    path("surveys/templates/", survey_views.template_list, name="survey-template-list"),
    path("surveys/templates/new/", survey_views.template_edit, name="survey-template-create"),
    path(
        "surveys/templates/<int:pk>/",
        survey_views.template_detail,
        name="survey-template-detail",
    ),
    path(
        "surveys/templates/<int:pk>/edit/", survey_views.template_edit, name="survey-template-edit"
    ),
    path(
        "surveys/templates/<int:pk>/copy/", survey_views.template_copy, name="survey-template-copy"
    ),
    path(
        "surveys/templates/<int:pk>/delete/",
        survey_views.template_delete,
        name="survey-template-delete",
    ),
    path("surveys/results/", survey_views.results, name="survey-results"),
    path("surveys/responses/", survey_views.response_list, name="survey-response-list"),
    path(
        "surveys/responses/<int:pk>/",
        survey_views.response_detail,
        name="survey-response-detail",
    ),
    # --- end of satisfaction surveys
]
