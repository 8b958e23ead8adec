"""``/api/v1/quotes/``: quotes with their lines; approval and status changes are actions.

Writes go through ``pipeline.services.quotes`` like the pages do, so the
arithmetic, the approval rule and the revision rule are the same everywhere.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from accounts.visibility import access_for
from pipeline.models import Deal, Product, Quote, QuoteApproval, QuoteLine
from pipeline.services import quotes as service


class QuoteLineSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), required=False, allow_null=True
    )
    unit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Leave out to use the product's list price.",
    )
    net_amount = serializers.SerializerMethodField(
        help_text="Quantity × unit price, less the discount, each rounded to the fen."
    )

    class Meta:
        model = QuoteLine
        fields = [
            "id",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "position",
            "net_amount",
        ]
        read_only_fields = ["id", "position"]

    def get_net_amount(self, line: QuoteLine) -> str:
        amounts = service.line_amounts(line.quantity, line.unit_price, line.discount_percent)
        return f"{amounts.net:.2f}"


class QuoteApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuoteApproval
        fields = [
            "id",
            "requested_by",
            "requested_at",
            "approver",
            "discount_percent",
            "decision",
            "comment",
            "decided_at",
        ]
        read_only_fields = fields


class QuoteSerializer(VersionedModelSerializer):
    """A quote; totals, status and approval are computed or changed by actions only."""

    lines = QuoteLineSerializer(many=True, required=False)
    approvals = QuoteApprovalSerializer(many=True, read_only=True)
    deal = serializers.PrimaryKeyRelatedField(queryset=Deal.objects.none())

    class Meta:
        model = Quote
        fields = [
            "id",
            "deal",
            "number",
            "revision",
            "status",
            "approval",
            "currency",
            "tax_rate",
            "valid_until",
            "notes",
            "subtotal",
            "discount_total",
            "tax_amount",
            "total",
            "max_discount_percent",
            "created_by",
            "created_at",
            "updated_at",
            "sent_at",
            "version",
            "lines",
            "approvals",
        ]
        read_only_fields = [
            "number",
            "revision",
            "status",
            "approval",
            "subtotal",
            "discount_total",
            "tax_amount",
            "total",
            "max_discount_percent",
            "created_by",
            "created_at",
            "updated_at",
            "sent_at",
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # A deal the caller cannot see reads as "does not exist".
            fields["deal"].queryset = Deal.objects.visible_to(request.user).select_related(
                "stage", "client"
            )
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["deal"].read_only = True
        return fields

    def create(self, validated_data: dict[str, Any]) -> Quote:
        user = self.context["request"].user
        deal = validated_data.pop("deal")
        if not access_for(user, deal).can_change:
            raise DjangoPermissionDenied
        validated_data.pop("version", None)
        lines = validated_data.pop("lines", [])
        return service.quote_create(deal=deal, by=user, lines=lines, **validated_data)

    def update(self, instance: Quote, validated_data: dict[str, Any]) -> Quote:
        user = self.context["request"].user
        version = validated_data.pop("version")
        lines = validated_data.pop("lines", None)
        return service.quote_update(
            quote=instance, by=user, expected_version=version, lines=lines, **validated_data
        )


class QuoteActionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a stale one answers 409."
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, help_text="The approver's comment (needed to reject)."
    )
    note = serializers.CharField(
        required=False, allow_blank=True, help_text="A note for the approver."
    )


class QuoteViewSet(VisibleModelViewSet):
    """Quotes on the deals the caller sees (a quote follows its deal's visibility)."""

    model = Quote
    serializer_class = QuoteSerializer
    filterset_fields = ["status", "approval", "deal", "number"]
    search_fields = ["number", "deal__title", "deal__client__name"]
    ordering_fields = ["created_at", "total", "valid_until", "number", "revision"]
    ordering = ["-created_at", "pk"]
    action_permissions = {
        "request_approval": "pipeline.add_quoteapproval",
        "approve": "pipeline.approve_discount",
        "reject": "pipeline.approve_discount",
        "send": "pipeline.change_quote",
        "accept": "pipeline.change_quote",
        "decline": "pipeline.change_quote",
        "expire": "pipeline.change_quote",
        "revise": "pipeline.add_quote",
    }

    def get_queryset(self) -> QuerySet[Quote]:
        return (
            super()
            .get_queryset()
            .select_related("deal__client", "deal__owner")
            .prefetch_related("lines", "approvals")
        )

    def perform_destroy(self, instance: Quote) -> None:
        service.quote_delete(quote=instance, by=self.request.user)

    def _answer(self, quote: Quote, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=quote.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def _body(self, request: Request) -> dict[str, Any]:
        body = QuoteActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    @extend_schema(request=QuoteActionSerializer, responses=QuoteSerializer)
    @action(detail=True, methods=["post"], url_path="request-approval")
    def request_approval(self, request: Request, pk: str | None = None) -> Response:
        """Ask the deal owner's manager to approve a discount above the threshold."""
        quote = self.get_object()
        body = self._body(request)
        service.quote_request_approval(
            quote=quote,
            by=request.user,
            expected_version=body.get("version"),
            note=body.get("note", ""),
        )
        return self._answer(quote)

    @extend_schema(request=QuoteActionSerializer, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """The approver (or someone above them) approves the pending discount."""
        quote = self.get_object()
        service.quote_approve(
            quote=quote, by=request.user, comment=self._body(request).get("comment", "")
        )
        return self._answer(quote)

    @extend_schema(request=QuoteActionSerializer, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """The approver rejects the pending discount; a comment is required."""
        quote = self.get_object()
        service.quote_reject(
            quote=quote, by=request.user, comment=self._body(request).get("comment", "")
        )
        return self._answer(quote)

    def _move(self, request: Request, step: Any) -> Response:
        quote = self.get_object()
        step(quote=quote, by=request.user, expected_version=self._body(request).get("version"))
        return self._answer(quote)

    @extend_schema(request=QuoteActionSerializer, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        """Mark a draft sent; refused while a discount lacks approval."""
        return self._move(request, service.quote_send)

    @extend_schema(request=QuoteActionSerializer, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """The client accepted a sent quote."""
        return self._move(request, service.quote_accept)

    @extend_schema(request=QuoteActionSerializer, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """The client rejected a sent quote (status "rejected")."""
        return self._move(request, service.quote_decline)

    @extend_schema(request=QuoteActionSerializer, responses=QuoteSerializer)
    @action(detail=True, methods=["post"])
    def expire(self, request: Request, pk: str | None = None) -> Response:
        """A sent quote lapsed without an answer."""
        return self._move(request, service.quote_expire)

    @extend_schema(request=None, responses={201: QuoteSerializer})
    @action(detail=True, methods=["post"])
    def revise(self, request: Request, pk: str | None = None) -> Response:
        """A new draft revision (same number, revision + 1); the old one stays as it was."""
        quote = self.get_object()
        new = service.quote_revise(quote=quote, by=request.user)
        return self._answer(new, status.HTTP_201_CREATED)
