"""``/api/v1/``: every app's viewsets on one router."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api

router = DefaultRouter()
router.register("users", accounts_api.UserViewSet, basename="user")
router.register("teams", accounts_api.TeamViewSet, basename="team")

# --- clients core (issue 3) ---
from clients import api as clients_api  # noqa: E402

router.register("clients", clients_api.ClientViewSet, basename="client")
router.register("contacts", clients_api.ContactViewSet, basename="contact")
# --- end clients core ---

urlpatterns = [
    path("auth/token/", accounts_api.TokenView.as_view(), name="api-token"),
    path("me/", accounts_api.MeView.as_view(), name="api-me"),
    *router.urls,
]
