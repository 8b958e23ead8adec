from django.urls import path

from tests.owned_app import views

urlpatterns = [
    path("notebooks/", views.notebook_list),
    path("notebooks/<int:pk>/", views.notebook_detail),
    path("pages/<int:pk>/", views.page_detail),
]
