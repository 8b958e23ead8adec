from django.urls import include, path

from salesorg.urls import urlpatterns as project_urls

urlpatterns = [
    path("test-owned/", include("tests.owned_app.urls")),
    *project_urls,
]
