"""``/api/v1/targets/``: the targets the caller may see, with their attainment.

Setting, changing and deleting follow ``pipeline.set_target`` and the subtree
rule of ``pipeline.services.targets``: a target the caller sees but may not
set answers 403, one they do not see 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VisibleModelViewSet
from accounts.models import Team, User
from pipeline.models import Target
from pipeline.services import targets as services


class TargetPermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method in permissions.SAFE_METHODS:
            return user.has_perm("pipeline.view_target")
        if request.method == "POST":
            return user.has_perm("pipeline.set_target")
        # Changes to one target: look it up first, so one the caller does not see is a 404.
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Target) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return services.may_set(request.user, user=obj.user, team=obj.team)


class TargetSerializer(serializers.ModelSerializer):
    won_revenue = serializers.SerializerMethodField(
        help_text="Won deals' amounts (CNY) closed in the period, for the target's scope."
    )
    attainment = serializers.SerializerMethodField(
        help_text="won_revenue ÷ revenue, or null when the revenue target is 0."
    )

    class Meta:
        model = Target
        fields = [
            "id",
            "user",
            "team",
            "period",
            "period_start",
            "revenue",
            *services.ACTIVITY_TARGET_FIELDS,
            "set_by",
            "updated_at",
            "won_revenue",
            "attainment",
        ]
        read_only_fields = ["set_by", "updated_at"]
        validators: list = []  # uniqueness is the service's, with a clear message

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated and request.method != "GET":
            # Someone else's person or team reads as an unknown id.
            fields["user"].queryset = User.objects.visible_to(request.user)
            fields["team"].queryset = Team.objects.visible_to(request.user)
        return fields

    def _attainment(self, obj: Target) -> services.Attainment:
        known = self.context.get("attainment") or {}
        if obj.pk not in known:
            known[obj.pk] = services.attainment(obj)
            self.context["attainment"] = known
        return known[obj.pk]

    @extend_schema_field(serializers.DecimalField(max_digits=16, decimal_places=2))
    def get_won_revenue(self, obj: Target) -> str:
        return f"{self._attainment(obj).won:.2f}"

    @extend_schema_field(serializers.DecimalField(max_digits=10, decimal_places=4, allow_null=True))
    def get_attainment(self, obj: Target) -> str | None:
        ratio = self._attainment(obj).ratio
        return None if ratio is None else f"{ratio:.4f}"

    def create(self, validated_data: dict[str, Any]) -> Target:
        return services.target_create(by=self.context["request"].user, **validated_data)

    def update(self, instance: Target, validated_data: dict[str, Any]) -> Target:
        fixed = {"user", "team", "period", "period_start"}
        for name in fixed & set(validated_data):
            current = getattr(instance, name)
            value = validated_data.pop(name)
            if name == "period_start" and value is not None:
                value = services.period_start_for(instance.period, value)
            if value != current:
                raise serializers.ValidationError(
                    {name: "The scope and period of a target cannot change; set a new one."}
                )
        return services.target_update(
            by=self.context["request"].user, target=instance, **validated_data
        )


class TargetViewSet(VisibleModelViewSet):
    """Revenue and activity targets per company, team or person and period."""

    model = Target
    serializer_class = TargetSerializer
    permission_classes = [TargetPermission]
    filterset_fields = {
        "period": ["exact"],
        "user": ["exact"],
        "team": ["exact"],
        "period_start": ["exact", "gte", "lte"],
    }
    ordering_fields = ["period_start", "revenue"]
    ordering = ["-period_start", "pk"]

    def get_queryset(self) -> QuerySet[Target]:
        return super().get_queryset().select_related("user", "team")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        context = {**self.get_serializer_context(), "attainment": services.attainment_many(rows)}
        data = self.get_serializer_class()(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def perform_destroy(self, instance: Target) -> None:
        services.target_delete(by=self.request.user, target=instance)
