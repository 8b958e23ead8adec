from django.urls import path

from clients import data_views

app_name = "clients"

urlpatterns: list = []

# --- data quality, merge, import and export (clients-data) ---
urlpatterns += [
    path("quality/", data_views.quality, name="quality"),
    path("merge/", data_views.merge, name="merge"),
    path("import/", data_views.import_upload, name="import"),
    path("import/<int:pk>/", data_views.import_detail, name="import-detail"),
    path("import/<int:pk>/errors.csv", data_views.import_errors, name="import-errors"),
    path("export/", data_views.export, name="export"),
]
# --- end clients-data ---
