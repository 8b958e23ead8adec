"""REST API of the organisation: ``me``, ``users``, ``teams`` and token login."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import Role, Team, User


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "kind", "parent", "manager"]


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="get_full_name", read_only=True)
    password = serializers.CharField(
        write_only=True, required=False, style={"input_type": "password"}
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "full_name",
            *services.EDITABLE_FIELDS,
            "is_active",
            "password",
        ]
        read_only_fields = ["is_active"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # An id the caller cannot see reads as "does not exist", so ids
            # cannot be probed; the service then checks the caller's authority.
            fields["team"].queryset = Team.objects.visible_to(request.user)
            fields["reports_to"].queryset = User.objects.visible_to(request.user)
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["username"].read_only = True
        return fields

    def create(self, validated_data: dict[str, Any]) -> User:
        actor = self.context["request"].user
        password = validated_data.pop("password", None)
        return services.user_create(by=actor, password=password, **validated_data)

    def update(self, instance: User, validated_data: dict[str, Any]) -> User:
        actor = self.context["request"].user
        validated_data.pop("password", None)
        return services.user_update(by=actor, user=instance, **validated_data)


class MeView(APIView):
    """The signed-in user."""

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user, context={"request": request}).data)


class UserFilter(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = User
        fields = ["role", "team", "reports_to", "is_active"]


class ManageUsers(permissions.BasePermission):
    """Reads for everyone signed in; writes for those who manage users."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return services.can_manage_users(request.user)


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The users the caller may see (their subtree and their own line); managers
    and the director create and edit users within their subtree."""

    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated, ManageUsers]
    filterset_class = UserFilter
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering_fields = ["username", "last_name", "role", "date_joined"]
    ordering = ["path"]

    def get_queryset(self) -> QuerySet[User]:
        # Visible but not theirs to manage: the service answers 403 on writes.
        return User.objects.visible_to(self.request.user).select_related("team")


class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamSerializer
    filterset_fields = ["kind", "parent"]
    search_fields = ["name"]

    def get_queryset(self) -> QuerySet[Team]:
        return Team.objects.visible_to(self.request.user).order_by("path")


class TokenView(ObtainAuthToken):
    """POST a username and password, get ``{"token": ...}`` for the Authorization header."""
