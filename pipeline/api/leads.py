"""``/api/v1/leads/``: leads, their duplicate check, conversion and disqualification.

Conversion and disqualification are POST actions, not field edits: conversion
makes a client, a contact and a deal in one transaction (and is idempotent),
disqualification needs a reason.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from accounts.models import User
from clients.models import Client
from pipeline.api.deals import BAD_REQUEST, CONFLICT, FORBIDDEN, NOT_FOUND, DealSerializer
from pipeline.models import Currency, Deal, Lead, LeadStatus
from pipeline.services import deals as deal_services
from pipeline.services import leads as services


class LeadSerializer(VersionedModelSerializer):
    """A lead. ``status`` may be set to new, contacted or qualified; disqualify and convert
    with their actions."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, help_text="A user id; defaults to you."
    )
    status = serializers.ChoiceField(
        choices=LeadStatus.choices,
        required=False,
        help_text="Set it to new, contacted or qualified; disqualify and convert with their "
        "actions (a PATCH to those answers 400).",
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "name",
            "company",
            "title",
            "phone",
            "email",
            "wechat_id",
            "source",
            "campaign",
            "event",
            "owner",
            "status",
            "disqualified_reason",
            "notes",
            "converted_client",
            "converted_contact",
            "converted_deal",
            "converted_at",
            "converted_by",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = [
            "disqualified_reason",
            "converted_client",
            "converted_contact",
            "converted_deal",
            "converted_at",
            "converted_by",
            "created_at",
            "updated_at",
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["owner"].queryset = deal_services.assignable_owners(request.user)
        return fields

    def create(self, validated_data: dict[str, Any]) -> Lead:
        validated_data.pop("version", None)
        status_ = validated_data.pop("status", LeadStatus.NEW)
        return services.lead_create(
            by=self.context["request"].user, status=status_, **validated_data
        )

    def update(self, instance: Lead, validated_data: dict[str, Any]) -> Lead:
        expected = validated_data.pop("version")
        return services.lead_update(
            by=self.context["request"].user,
            lead=instance,
            expected_version=expected,
            **validated_data,
        )


class ConvertSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.none(),
        required=False,
        allow_null=True,
        help_text="An existing client you see (e.g. a duplicate found); omit to make a new one.",
    )
    client_name = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Name of the new client; defaults to the lead's company.",
    )
    deal_title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=0)
    currency = serializers.ChoiceField(choices=Currency.choices, default=Currency.CNY)
    expected_close_date = serializers.DateField(required=False, allow_null=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["client"].queryset = Client.objects.visible_to(request.user)
        return fields


class ConversionSerializer(serializers.Serializer):
    lead = LeadSerializer()
    client = serializers.IntegerField(source="client.pk", allow_null=True)
    contact = serializers.IntegerField(source="contact.pk", allow_null=True)
    deal = DealSerializer(allow_null=True)
    created = serializers.BooleanField(
        help_text="False when the lead was converted before and nothing new was made."
    )


class DisqualifySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, help_text="Why the lead is disqualified.")
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")


class DuplicateClientSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    owner = serializers.IntegerField(help_text="The client's owner (a user id).")


class DuplicateSerializer(serializers.Serializer):
    clients = DuplicateClientSerializer(many=True, help_text="Matching clients you see.")
    leads = LeadSerializer(many=True, help_text="Matching leads you see.")


class LeadFilter(filters.FilterSet):
    created_after = filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_before = filters.DateFilter(field_name="created_at", lookup_expr="date__lte")
    campaign = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Lead
        fields = ["status", "source", "owner", "event", "campaign"]


@extend_schema_view(
    update=extend_schema(responses={200: LeadSerializer, 400: BAD_REQUEST, 409: CONFLICT}),
    partial_update=extend_schema(responses={200: LeadSerializer, 400: BAD_REQUEST, 409: CONFLICT}),
)
class LeadViewSet(VisibleModelViewSet):
    """Your leads and those of the people below you."""

    model = Lead
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    search_fields = ["name", "company", "email", "phone"]
    ordering_fields = ["created_at", "updated_at", "name", "company_normalized", "status"]
    ordering = ["-created_at"]
    action_permissions = {"convert": "pipeline.add_deal", "disqualify": "pipeline.change_lead"}

    def get_queryset(self) -> QuerySet[Lead]:
        return super().get_queryset().select_related("owner")

    def perform_destroy(self, instance: Lead) -> None:
        services.lead_delete(by=self.request.user, lead=instance)

    @extend_schema(
        summary="Convert the lead into a client, a contact and a deal (idempotent)",
        request=ConvertSerializer,
        responses={
            201: ConversionSerializer,
            200: OpenApiResponse(
                ConversionSerializer, description="Converted before; nothing new."
            ),
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"])
    def convert(self, request: Request, pk: str | None = None) -> Response:
        lead = self.get_object()
        body = ConvertSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = services.lead_convert(
            lead=lead,
            by=request.user,
            client=data.get("client"),
            client_name=data.get("client_name", ""),
            deal_title=data.get("deal_title", ""),
            amount=data["amount"],
            currency=data["currency"],
            expected_close_date=data.get("expected_close_date"),
        )
        deal = (
            Deal.objects.select_related("client", "stage", "owner")
            .prefetch_related("products")
            .filter(pk=result.deal.pk)
            .first()
            if result.deal
            else None
        )
        payload = {
            "lead": result.lead,
            "client": result.client,
            "contact": result.contact,
            "deal": deal,
            "created": result.created,
        }
        data_out = ConversionSerializer(payload, context=self.get_serializer_context()).data
        return Response(data_out, status=status.HTTP_201_CREATED if result.created else 200)

    @extend_schema(
        summary="Disqualify the lead, saying why",
        request=DisqualifySerializer,
        responses={200: LeadSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def disqualify(self, request: Request, pk: str | None = None) -> Response:
        lead = self.get_object()
        body = DisqualifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lead = services.lead_disqualify(
            by=request.user,
            lead=lead,
            reason=body.validated_data["reason"],
            expected_version=body.validated_data["version"],
        )
        return Response(self.get_serializer(lead).data)

    @extend_schema(
        summary="Clients and leads you see with the same company, phone or e-mail",
        parameters=[
            OpenApiParameter("company", OpenApiTypes.STR),
            OpenApiParameter("phone", OpenApiTypes.STR),
            OpenApiParameter("email", OpenApiTypes.STR),
        ],
        responses={200: DuplicateSerializer},
    )
    @action(detail=False, methods=["get"])
    def duplicates(self, request: Request) -> Response:
        found = services.lead_duplicates(
            user=request.user,
            company=request.query_params.get("company", ""),
            phone=request.query_params.get("phone", ""),
            email=request.query_params.get("email", ""),
        )
        return Response(
            {
                "clients": [
                    {"id": c.pk, "name": c.name, "owner": c.owner_id} for c in found.clients
                ],
                "leads": LeadSerializer(
                    found.leads, many=True, context=self.get_serializer_context()
                ).data,
            }
        )
