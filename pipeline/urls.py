from django.urls import path

from pipeline.views import deals as deal_views
from pipeline.views import leads as lead_views
from pipeline.views import signup as signup_views
from pipeline.views import stages as stage_views

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
