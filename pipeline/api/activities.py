"""``/api/v1/activities/``: the same activities, rules and derived fields as the pages.

Writes go through ``pipeline.services.activities`` (a done visit moves the
client's cadence, a done activity the deal's last activity); marking a
planned activity done is an explicit action, ``POST .../complete/``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from clients.models import Client, Contact
from pipeline.models import Activity, ActivityType, Deal, Lead, Objection, Product
from pipeline.services import activities as services


class ObjectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Objection
        fields = ["id", *services.OBJECTION_FIELDS]
        read_only_fields = ["id"]


class ActivitySerializer(VersionedModelSerializer):
    objections = ObjectionSerializer(
        many=True,
        required=False,
        help_text="Objections raised and how they were handled. On update, sending the list "
        "replaces all of them; leaving it out keeps them.",
    )
    products_demonstrated = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Product.objects.all(), required=False
    )
    duration_minutes = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text="Defaults by type: a visit 45 minutes, a meeting or demo 60, a call 10.",
    )
    client_name = serializers.CharField(source="client.name", read_only=True, default="")
    lead_name = serializers.CharField(source="lead.name", read_only=True, default="")

    class Meta:
        model = Activity
        fields = [
            "id",
            "version",
            "type",
            "status",
            "client",
            "client_name",
            "lead",
            "lead_name",
            "deal",
            "contact",
            "owner",
            "subject",
            "start_at",
            "duration_minutes",
            "outcome",
            "next_step",
            "follow_up_reason",
            *services.SPIN_FIELDS,
            "products_demonstrated",
            "objections",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["owner", "created_at", "updated_at"]
        extra_kwargs = {"start_at": {"required": False}}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated and request.method != "GET":
            # Someone else's record reads as an unknown id: ids cannot be probed.
            user = request.user
            fields["client"].queryset = Client.objects.visible_to(user)
            fields["lead"].queryset = Lead.objects.visible_to(user)
            fields["deal"].queryset = Deal.objects.visible_to(user)
            fields["contact"].queryset = Contact.objects.visible_to(user)
        return fields

    def _split(self, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        extra: dict[str, Any] = {}
        if "objections" in data:
            extra["objections"] = data.pop("objections")
        if "products_demonstrated" in data:
            extra["products"] = data.pop("products_demonstrated")
        return data, extra

    def create(self, validated_data: dict[str, Any]) -> Activity:
        validated_data.pop("version", None)
        fields, extra = self._split(validated_data)
        return services.activity_create(by=self.context["request"].user, **fields, **extra)

    def update(self, instance: Activity, validated_data: dict[str, Any]) -> Activity:
        expected = validated_data.pop("version")
        fields, extra = self._split(validated_data)
        return services.activity_update(
            by=self.context["request"].user,
            activity=instance,
            expected_version=expected,
            **fields,
            **extra,
        )


class CompleteSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")
    outcome = serializers.CharField(required=False, allow_blank=True, default="")
    next_step = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class ActivityFilter(filters.FilterSet):
    type = filters.ChoiceFilter(choices=ActivityType.choices)
    status = filters.ChoiceFilter(choices=Activity.Status.choices)
    start_after = filters.IsoDateTimeFilter(field_name="start_at", lookup_expr="gte")
    start_before = filters.IsoDateTimeFilter(field_name="start_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ["type", "status", "owner", "client", "lead", "deal"]


class ActivityViewSet(VisibleModelViewSet):
    """Calls, visits, demos, meetings and e-mails the caller may see (theirs and
    their subtree's). A done visit moves its client's next-visit-due date."""

    model = Activity
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilter
    search_fields = ["subject", "outcome"]
    ordering_fields = ["start_at", "type", "status", "created_at"]
    ordering = ["-start_at", "-pk"]
    action_permissions = {"complete": "pipeline.change_activity"}

    def get_queryset(self) -> QuerySet[Activity]:
        return (
            super()
            .get_queryset()
            .select_related("client", "lead")
            .prefetch_related("objections", "products_demonstrated")
        )

    def perform_destroy(self, instance: Activity) -> None:
        services.activity_delete(by=self.request.user, activity=instance)

    @extend_schema(request=CompleteSerializer, responses={200: ActivitySerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Mark a planned activity done (with its outcome); a done visit moves the cadence."""
        activity = self.get_object()
        body = CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.activity_complete(
            by=request.user,
            activity=activity,
            expected_version=body.validated_data["version"],
            outcome=body.validated_data["outcome"],
            next_step=body.validated_data["next_step"],
        )
        fresh = self.get_queryset().get(pk=activity.pk)
        return Response(
            self.get_serializer(fresh).data,
            status=status.HTTP_200_OK,
        )
