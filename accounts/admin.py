from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import HandOver, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "get_full_name", "role", "team", "reports_to", "is_active")
    list_filter = ("role", "is_active", "team")
    list_select_related = ("team", "reports_to")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Organisation"), {"fields": ("role", "title", "phone", "team", "reports_to")}),
    )
    readonly_fields = ("path",)


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "parent", "manager")
    list_filter = ("kind",)
    list_select_related = ("parent", "manager")


@admin.register(HandOver)
class HandOverAdmin(admin.ModelAdmin):
    list_display = ("from_user", "to_user", "by", "at")
    readonly_fields = ("from_user", "to_user", "by", "at", "moved")
