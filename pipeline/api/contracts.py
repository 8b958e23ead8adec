"""``/api/v1/contracts/``: contracts, their workflow (``transition``), renewals and files."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from accounts.visibility import access_for
from pipeline.models import Contract, ContractFile, ContractStatus, Deal
from pipeline.services import contracts as service


class ContractFileSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ContractFile
        fields = ["id", "title", "uploaded_by", "uploaded_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, obj: ContractFile) -> str:
        return reverse("pipeline:contract-file-download", args=[obj.pk])


class ContractFileUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ContractSerializer(VersionedModelSerializer):
    """A contract; status, signature date and owner change only through actions."""

    deal = serializers.PrimaryKeyRelatedField(
        queryset=Deal.objects.none(), help_text="The won deal the contract is made from."
    )
    renewals = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    files = ContractFileSerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "title",
            "client",
            "deal",
            "owner",
            "amount",
            "currency",
            "start_date",
            "end_date",
            "payment_terms",
            "status",
            "signed_on",
            "renews",
            "renewals",
            "files",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = [
            "number",
            "client",
            "owner",
            "status",
            "signed_on",
            "renews",
            "created_at",
            "updated_at",
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["deal"].queryset = Deal.objects.visible_to(request.user).select_related(
                "stage", "client__account_manager", "owner"
            )
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["deal"].read_only = True
        return fields

    def create(self, validated_data: dict[str, Any]) -> Contract:
        user = self.context["request"].user
        deal = validated_data.pop("deal")
        if not access_for(user, deal).can_change:
            raise DjangoPermissionDenied
        validated_data.pop("version", None)
        return service.contract_create_from_deal(deal=deal, by=user, **validated_data)

    def update(self, instance: Contract, validated_data: dict[str, Any]) -> Contract:
        version = validated_data.pop("version")
        return service.contract_update(
            contract=instance,
            by=self.context["request"].user,
            expected_version=version,
            **validated_data,
        )


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ContractStatus.choices)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a stale one answers 409."
    )
    signed_on = serializers.DateField(
        required=False, help_text="When moving to signed: the signature date (default today)."
    )


class RenewSerializer(serializers.Serializer):
    start_date = serializers.DateField(required=False, help_text="Default: the day after the end.")
    end_date = serializers.DateField(required=False, help_text="Default: as long as the old term.")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    payment_terms = serializers.CharField(required=False, allow_blank=True, max_length=255)


class ContractViewSet(VisibleModelViewSet):
    """Contracts of the clients and people the caller sees."""

    model = Contract
    serializer_class = ContractSerializer
    filterset_fields = ["status", "client", "owner", "deal", "renews"]
    search_fields = ["number", "title", "client__name"]
    ordering_fields = ["start_date", "end_date", "amount", "number", "signed_on"]
    ordering = ["-start_date", "pk"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_permissions = {
        "transition": "pipeline.change_contract",
        "renew": "pipeline.add_contract",
        "files": "pipeline.add_contractfile",
    }

    def get_queryset(self) -> QuerySet[Contract]:
        return super().get_queryset().prefetch_related("renewals", "files")

    def perform_destroy(self, instance: Contract) -> None:
        service.contract_delete(contract=instance, by=self.request.user)

    def _answer(self, contract: Contract, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=contract.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(request=TransitionSerializer, responses=ContractSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Move the contract one step along the workflow; invalid steps answer 400."""
        contract = self.get_object()
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service.contract_transition(
            contract=contract,
            to_status=body.validated_data["status"],
            by=request.user,
            expected_version=body.validated_data.get("version"),
            signed_on=body.validated_data.get("signed_on"),
        )
        return self._answer(contract)

    @extend_schema(request=RenewSerializer, responses={201: ContractSerializer})
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, pk: str | None = None) -> Response:
        """Draft the renewal contract; the old one is marked renewed when it is signed."""
        contract = self.get_object()
        body = RenewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        renewal = service.contract_renew(contract=contract, by=request.user, **body.validated_data)
        return self._answer(renewal, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], request=None, responses=ContractFileSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": ContractFileUploadSerializer},
        responses={201: ContractFileSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def files(self, request: Request, pk: str | None = None) -> Response:
        """The contract's files; POST (multipart) attaches one, within the size limit."""
        # Anyone who sees the contract and may add files (support staff keep the
        # archive) may attach one: no right to change the contract is needed.
        try:
            contract = self.get_queryset().get(pk=int(pk or ""))
        except (Contract.DoesNotExist, ValueError):
            raise Http404 from None
        if request.method == "GET":
            data = ContractFileSerializer(contract.files.all(), many=True).data
            return Response(data)
        body = ContractFileUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        attached = service.contract_attach_file(
            contract=contract,
            by=request.user,
            file=body.validated_data["file"],
            title=body.validated_data.get("title", ""),
        )
        return Response(ContractFileSerializer(attached).data, status=status.HTTP_201_CREATED)
