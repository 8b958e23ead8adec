from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import home
from salesorg.health import healthz

urlpatterns = [
    path("", home, name="home"),
    path("", include("accounts.urls")),
    path("dashboard/", include("reports.urls")),
    path("clients/", include("clients.urls")),
    path("pipeline/", include("pipeline.urls")),
    # public survey answer pages, no login (care-surveys)
    path("s/", include("clients.survey_public")),
    path("api/v1/", include("salesorg.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
