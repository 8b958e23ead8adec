from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import notification_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            success_url=reverse_lazy("accounts:password-change-done"),
        ),
        name="password-change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_done.html"),
        name="password-change-done",
    ),
    path("me/", views.profile, name="profile"),
    path("org/", views.org_chart, name="org-chart"),
    path("people/", views.user_list, name="user-list"),
    path("people/new/", views.user_create, name="user-create"),
    path("people/<int:pk>/", views.user_detail, name="user-detail"),
    path("people/<int:pk>/edit/", views.user_edit, name="user-edit"),
    path("people/<int:pk>/deactivate/", views.user_deactivate, name="user-deactivate"),
    # --- notification centre (care-jobs)
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("notifications/badge/", notification_views.notification_badge, name="notification-badge"),
    path(
        "notifications/read-all/",
        notification_views.notification_read_all,
        name="notifications-read-all",
    ),
    path(
        "notifications/preferences/",
        notification_views.notification_preferences,
        name="notification-preferences",
    ),
    path(
        "notifications/<int:pk>/open/",
        notification_views.notification_open,
        name="notification-open",
    ),
    path(
        "notifications/<int:pk>/read/",
        notification_views.notification_read,
        name="notification-read",
    ),
    # --- end notification centre
]
