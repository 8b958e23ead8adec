from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("<slug:role>/", views.home, name="home"),
]
