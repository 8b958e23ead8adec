"""``/api/v1/products/``: the catalogue, readable by every role, kept by those with
the product permissions (support, managers, the director)."""

from __future__ import annotations

from typing import Any

from django.db.models import ProtectedError, QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from pipeline.models import Product, ProductMaterial
from pipeline.services import materials as material_services

_VERB = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change"}
_VERB |= {"PATCH": "change", "DELETE": "delete"}


class ModelRolePermission(permissions.BasePermission):
    """The role's Django permission for the method (view for reads), or the action's own."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        extra = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if extra:
            return request.user.has_perm(extra)
        opts = view.queryset.model._meta
        verb = _VERB.get(request.method, "change")
        return request.user.has_perm(f"{opts.app_label}.{verb}_{opts.model_name}")


class ProductMaterialSerializer(serializers.ModelSerializer):
    """A sales material; uploaded as multipart (``file``), read back with a download link."""

    download_url = serializers.SerializerMethodField()
    file = serializers.FileField(write_only=True)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    class Meta:
        model = ProductMaterial
        fields = ["id", "kind", "title", "file", "download_url", "uploaded_at"]

    def get_download_url(self, obj: ProductMaterial) -> str:
        return reverse("pipeline:material-download", args=[obj.pk])


class ProductSerializer(serializers.ModelSerializer):
    materials = ProductMaterialSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "code",
            "category",
            "unit_price",
            "currency",
            "description",
            "feature",
            "advantage",
            "benefit",
            "is_active",
            "materials",
        ]


class ProductViewSet(viewsets.ModelViewSet):
    """The product catalogue with feature / advantage / benefit and sales materials."""

    queryset = Product.objects.prefetch_related("materials")
    serializer_class = ProductSerializer
    permission_classes = [ModelRolePermission]
    filterset_fields = ["category", "is_active", "currency"]
    search_fields = ["name", "code", "description"]
    ordering_fields = ["name", "code", "unit_price", "category"]
    ordering = ["name"]
    action_permissions = {"materials": "pipeline.add_productmaterial"}

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.prefetch_related("materials").order_by("name", "pk")

    def perform_destroy(self, instance: Product) -> None:
        try:
            instance.delete()
        except ProtectedError:
            raise ValidationError(
                {"detail": "This product is on quotes; deactivate it (is_active=false) instead."}
            ) from None

    @extend_schema(request=ProductMaterialSerializer, responses={201: ProductMaterialSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def materials(self, request: Request, pk: str | None = None) -> Response:
        """Upload a brochure, spec sheet, case study, demo deck or toolkit (multipart)."""
        product = self.get_object()
        body = ProductMaterialSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        material = material_services.material_add(
            by=request.user, product=product, **body.validated_data
        )
        return Response(ProductMaterialSerializer(material).data, status=status.HTTP_201_CREATED)
