"""``/api/v1/deals/`` and ``/api/v1/stages/``.

A deal's stage changes only through the POST actions ``move``, ``won``,
``lost`` and ``reopen`` — never by PATCHing ``stage`` — so that every change
is recorded in the stage history and won/lost always carry what they need.
Each action takes the ``version`` the caller read and answers 409 Conflict
when someone changed the deal since.
"""

from __future__ import annotations

from typing import Any

from django.db.models import ProtectedError, QuerySet
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from accounts.models import User
from clients.filters import visible_clients, visible_users
from clients.models import Client
from pipeline.models import Deal, Product, Stage
from pipeline.services import deals as services

CONFLICT = OpenApiResponse(
    response=inline_serializer("Conflict", {"detail": serializers.CharField()}),
    description="Someone changed the deal after you read it: reload it and try again.",
)
BAD_REQUEST = OpenApiResponse(description="Invalid input; the body names each field's problem.")
FORBIDDEN = OpenApiResponse(description="You see this deal but may not move or change it.")
NOT_FOUND = OpenApiResponse(description="No such deal, or not one you may see.")


class DealSerializer(VersionedModelSerializer):
    """A deal. ``stage`` is set on creation only (an open stage; the first if omitted)."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(),
        required=False,
        help_text="A user id; defaults to you. Giving a deal to someone else needs the right "
        "to reassign deals.",
    )
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True),
        required=False,
        help_text="On creation only. Later moves use the move, won, lost and reopen actions.",
    )
    probability = serializers.IntegerField(
        min_value=0,
        max_value=100,
        required=False,
        help_text="Percent; defaults to the stage's default probability.",
    )
    products = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(is_active=True), many=True, required=False
    )
    client_name = serializers.CharField(source="client.name", read_only=True)
    stage_code = serializers.CharField(source="stage.code", read_only=True)
    stage_kind = serializers.CharField(source="stage.kind", read_only=True)
    weighted_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "title",
            "client",
            "client_name",
            "owner",
            "amount",
            "currency",
            "stage",
            "stage_code",
            "stage_kind",
            "probability",
            "weighted_amount",
            "expected_close_date",
            "closed_on",
            "next_step",
            "lost_reason",
            "competitor",
            "products",
            "stage_changed_at",
            "last_activity_at",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = [
            "closed_on",
            "lost_reason",
            "stage_changed_at",
            "last_activity_at",
            "created_at",
            "updated_at",
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # An id the caller cannot see reads as "does not exist".
            fields["client"].queryset = Client.objects.visible_to(request.user)
            fields["owner"].queryset = services.assignable_owners(request.user)
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            if "stage" in self.initial_data:
                raise DRFValidationError(
                    {"stage": _("Move a deal to another stage with the move, won or lost actions.")}
                )
            if "client" in attrs and attrs["client"].pk != self.instance.client_id:
                raise DRFValidationError(
                    {"client": _("A deal stays with its client; open a new deal instead.")}
                )
            attrs.pop("client", None)
        return super().validate(attrs)

    def create(self, validated_data: dict[str, Any]) -> Deal:
        validated_data.pop("version", None)
        return services.deal_create(by=self.context["request"].user, **validated_data)

    def update(self, instance: Deal, validated_data: dict[str, Any]) -> Deal:
        expected = validated_data.pop("version")
        return services.deal_update(
            by=self.context["request"].user,
            deal=instance,
            expected_version=expected,
            **validated_data,
        )


class MoveSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True),
        help_text="An open stage in use. Close a deal with the won or lost action.",
    )
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")


class WonSerializer(serializers.Serializer):
    closed_on = serializers.DateField(help_text="The day the deal was won (today or earlier).")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, help_text="The final amount."
    )
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")


class LostSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, help_text="Why the deal was lost.")
    competitor = serializers.CharField(
        max_length=120, required=False, allow_blank=True, help_text="Who won it, if anyone."
    )
    closed_on = serializers.DateField(required=False, help_text="Defaults to today.")
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")


class ReopenSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True),
        required=False,
        help_text="Defaults to the open stage the deal was closed from.",
    )
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")


class DealFilter(filters.FilterSet):
    # Only what the caller sees is offered, and a hidden id is as invalid as an
    # unknown one (400), so ids cannot be probed.
    client = filters.ModelChoiceFilter(queryset=visible_clients)
    owner = filters.ModelChoiceFilter(queryset=visible_users)
    state = filters.ChoiceFilter(
        field_name="stage__kind", choices=Stage.Kind.choices, label="open, won or lost"
    )
    expected_close_after = filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    expected_close_before = filters.DateFilter(field_name="expected_close_date", lookup_expr="lte")
    closed_after = filters.DateFilter(field_name="closed_on", lookup_expr="gte")
    closed_before = filters.DateFilter(field_name="closed_on", lookup_expr="lte")
    amount_min = filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = filters.NumberFilter(field_name="amount", lookup_expr="lte")

    class Meta:
        model = Deal
        fields = ["stage", "owner", "client", "currency"]


def _action_schema(request: type[serializers.Serializer], summary: str) -> Any:
    return extend_schema(
        summary=summary,
        request=request,
        responses={
            200: DealSerializer,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )


@extend_schema_view(
    update=extend_schema(responses={200: DealSerializer, 400: BAD_REQUEST, 409: CONFLICT}),
    partial_update=extend_schema(responses={200: DealSerializer, 400: BAD_REQUEST, 409: CONFLICT}),
)
class DealViewSet(VisibleModelViewSet):
    """Deals you own, your team's, and your key accounts' — never anyone else's."""

    model = Deal
    serializer_class = DealSerializer
    filterset_class = DealFilter
    search_fields = ["title", "client__name"]
    ordering_fields = ["updated_at", "created_at", "amount", "expected_close_date", "closed_on"]
    ordering = ["-updated_at"]
    action_permissions = {
        "move": "pipeline.move_deal",
        "won": "pipeline.move_deal",
        "lost": "pipeline.move_deal",
        "reopen": "pipeline.move_deal",
    }

    def get_queryset(self) -> QuerySet[Deal]:
        return (
            super()
            .get_queryset()
            .select_related("client", "stage", "owner")
            .prefetch_related("products")
        )

    def perform_destroy(self, instance: Deal) -> None:
        services.deal_delete(by=self.request.user, deal=instance)

    def _respond(self, deal: Deal) -> Response:
        deal = self.get_queryset().get(pk=deal.pk)
        return Response(self.get_serializer(deal).data)

    @_action_schema(MoveSerializer, "Move the deal to another open stage")
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        deal = self.get_object()
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if deal.stage.kind != Stage.Kind.OPEN:
            raise DRFValidationError({"stage": _("The deal is closed; reopen it first.")})
        deal = services.deal_move(
            by=request.user,
            deal=deal,
            stage=body.validated_data["stage"],
            expected_version=body.validated_data["version"],
        )
        return self._respond(deal)

    @_action_schema(WonSerializer, "Mark the deal won, with its close date and final amount")
    @action(detail=True, methods=["post"])
    def won(self, request: Request, pk: str | None = None) -> Response:
        deal = self.get_object()
        body = WonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deal = services.deal_mark_won(
            by=request.user,
            deal=deal,
            closed_on=body.validated_data["closed_on"],
            amount=body.validated_data["amount"],
            expected_version=body.validated_data["version"],
        )
        return self._respond(deal)

    @_action_schema(LostSerializer, "Mark the deal lost, with the reason (and competitor)")
    @action(detail=True, methods=["post"])
    def lost(self, request: Request, pk: str | None = None) -> Response:
        deal = self.get_object()
        body = LostSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deal = services.deal_mark_lost(
            by=request.user,
            deal=deal,
            reason=body.validated_data["reason"],
            competitor=body.validated_data.get("competitor", ""),
            closed_on=body.validated_data.get("closed_on"),
            expected_version=body.validated_data["version"],
        )
        return self._respond(deal)

    @_action_schema(ReopenSerializer, "Reopen a won or lost deal")
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        deal = self.get_object()
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deal = services.deal_reopen(
            by=request.user,
            deal=deal,
            stage=body.validated_data.get("stage"),
            expected_version=body.validated_data["version"],
        )
        return self._respond(deal)


# ------------------------------------------------------------------------ stages
class StageSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="The name in your language.")

    class Meta:
        model = Stage
        fields = [
            "id",
            "code",
            "name",
            "name_zh",
            "label",
            "order",
            "probability",
            "kind",
            "is_active",
        ]
        read_only_fields = ["kind"]
        extra_kwargs = {"code": {"required": False}}

    def create(self, validated_data: dict[str, Any]) -> Stage:
        validated_data.pop("is_active", None)
        return services.stage_create(by=self.context["request"].user, **validated_data)

    def update(self, instance: Stage, validated_data: dict[str, Any]) -> Stage:
        if "code" in validated_data and validated_data["code"] != instance.code:
            raise DRFValidationError({"code": _("A stage's code does not change.")})
        validated_data.pop("code", None)
        return services.stage_update(
            by=self.context["request"].user, stage=instance, **validated_data
        )


class StagePermission(permissions.BasePermission):
    """Everyone signed in reads the stages; writing needs the stage permissions (the director)."""

    _verbs = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        verb = self._verbs.get(request.method)
        return verb is not None and request.user.has_perm(f"pipeline.{verb}_stage")


@extend_schema_view(
    create=extend_schema(summary="Add an open stage (the won and lost stages exist once)"),
    destroy=extend_schema(
        summary="Delete a stage no deal has ever been in; retire it otherwise (is_active)"
    ),
)
class StageViewSet(viewsets.ModelViewSet):
    """The pipeline's stages in board order; new stages are open stages."""

    serializer_class = StageSerializer
    permission_classes = [permissions.IsAuthenticated, StagePermission]
    queryset = Stage.objects.order_by("order", "pk")
    filterset_fields = ["kind", "is_active"]
    ordering_fields = ["order"]
    pagination_class = None

    def perform_destroy(self, instance: Stage) -> None:
        if instance.kind != Stage.Kind.OPEN:
            raise DRFValidationError({"detail": _("The won and lost stages stay.")})
        try:
            instance.delete()
        except ProtectedError:
            raise DRFValidationError(
                {"detail": _("Deals have been in this stage; retire it instead (is_active).")}
            ) from None

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.perform_destroy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
