"""REST API of clients and contacts: ``/api/v1/clients/`` and ``/api/v1/contacts/``.

Lists and lookups start from ``visible_to(user)`` (``VisibleModelViewSet``);
writes go through ``clients.services``, so the API refuses exactly what the
pages refuse: a support user's change of the owner, the account manager or a
money field answers 400 naming the field, and nothing is applied; a stale
``version`` answers 409.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from accounts.models import Team, User
from accounts.visibility import access_for
from clients import services
from clients.filters import ClientFilter
from clients.models import Client, Contact, Tag
from clients.validators import validate_phone, validate_registration_number

_CONFLICT = OpenApiResponse(description="The record changed since you read it (stale `version`).")


def _is_write(request: Request | None) -> bool:
    """Whether the serializer will validate input (the visible-only choices are
    only needed then; building them costs a query on every read)."""
    return (
        request is not None
        and request.user.is_authenticated
        and request.method not in permissions.SAFE_METHODS
    )


class ClientSerializer(VersionedModelSerializer):
    tags = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Tag.objects.all())
    rfm_score = serializers.CharField(read_only=True)

    class Meta:
        model = Client
        fields = [
            "id",
            "version",
            *services.MASTER_FIELDS,
            "tags",
            *services.PROTECTED_FIELDS,
            "rfm_score",
            "rfm_scored_at",
            "last_visit_at",
            "next_visit_due",
            "created_at",
            "updated_at",
            "created_by",
        ]
        read_only_fields = [
            "rfm_scored_at",
            "last_visit_at",
            "next_visit_due",
            "created_at",
            "updated_at",
            "created_by",
        ]
        extra_kwargs = {
            # The service checks duplicates and names the other client when the
            # caller may see it; the generic unique validators would pre-empt that.
            "registration_number": {"validators": [validate_registration_number]},
            "external_id": {"validators": []},
            "phone": {"validators": [validate_phone]},
            "owner": {
                "required": False,
                "help_text": "User id. Defaults to you; changing it needs "
                "`clients.change_client_ownership`.",
            },
            "account_manager": {
                "help_text": "User id of the dedicated account manager; changing it needs "
                "`clients.assign_account_manager` (or the `assign-account-manager` action)."
            },
        }

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if _is_write(request):
            # An id the caller cannot see reads as "does not exist": no probing.
            visible_users = User.objects.visible_to(request.user)
            fields["owner"].queryset = visible_users
            fields["account_manager"].queryset = visible_users
            fields["referred_by"].queryset = Client.objects.visible_to(request.user)
        fields["region"].queryset = Team.objects.filter(kind=Team.Kind.REGION)
        return fields

    def get_unique_together_validators(self) -> list[Any]:
        return []

    def validate_registration_number(self, value: str) -> str:
        """Reported with the other field errors (the service checks it again)."""
        number = (value or "").strip().upper()
        if number:
            instance = self.instance if isinstance(self.instance, Client) else None
            taken = services.registration_number_taken_message(
                self.context["request"].user, number, instance.pk if instance else None
            )
            if taken:
                raise serializers.ValidationError(taken)
        return value

    def create(self, validated_data: dict[str, Any]) -> Client:
        validated_data.pop("version", None)
        tags = validated_data.pop("tags", None)
        return services.client_create(by=self.context["request"].user, tags=tags, **validated_data)

    def update(self, instance: Client, validated_data: dict[str, Any]) -> Client:
        expected = validated_data.pop("version")
        tags = validated_data.pop("tags", None)
        return services.client_update(
            by=self.context["request"].user,
            client=instance,
            expected_version=expected,
            tags=tags,
            **validated_data,
        )


class ContactSerializer(VersionedModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "version",
            "client",
            *services.CONTACT_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "phone": {"validators": [validate_phone]},
            "client": {"help_text": "Id of the client; cannot be changed later."},
        }

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if _is_write(request):
            fields["client"].queryset = Client.objects.visible_to(request.user)
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["client"].read_only = True
        return fields

    def get_unique_together_validators(self) -> list[Any]:
        return []

    def create(self, validated_data: dict[str, Any]) -> Contact:
        validated_data.pop("version", None)
        client = validated_data.pop("client")
        return services.contact_create(
            by=self.context["request"].user, client=client, **validated_data
        )

    def update(self, instance: Contact, validated_data: dict[str, Any]) -> Contact:
        expected = validated_data.pop("version")
        validated_data.pop("client", None)
        return services.contact_update(
            by=self.context["request"].user,
            contact=instance,
            expected_version=expected,
            **validated_data,
        )


class ShareSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    level = serializers.ChoiceField(choices=sorted(services.SHARE_LEVELS), default="view")


class UnshareSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.all())


class ShareListSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user.pk")
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    level = serializers.ChoiceField(choices=sorted(services.SHARE_LEVELS))


class AssignAccountManagerSerializer(serializers.Serializer):
    account_manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), allow_null=True, help_text="User id, or null to remove."
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a stale one answers 409."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["account_manager"].queryset = services.assignable_account_managers(request.user)
        return fields


@extend_schema_view(
    update=extend_schema(responses={200: ClientSerializer, 409: _CONFLICT}),
    partial_update=extend_schema(responses={200: ClientSerializer, 409: _CONFLICT}),
)
class ClientViewSet(VisibleModelViewSet):
    """Clients the caller may see. Filters match the client list page; `search`
    looks in names, contacts, phones, e-mails and registration numbers."""

    model = Client
    serializer_class = ClientSerializer
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = ClientFilter
    ordering_fields = [
        "name",
        "status",
        "industry",
        "next_visit_due",
        "spend_12m",
        "updated_at",
        "created_at",
    ]
    ordering = ["name"]
    action_permissions = {
        "share": "clients.share_client",
        "unshare": "clients.share_client",
        "assign_account_manager": "clients.assign_account_manager",
    }

    def get_queryset(self) -> QuerySet[Client]:
        qs = super().get_queryset()
        if self.action == "list":
            qs = qs.prefetch_related("tags")
        elif self.action in ("retrieve", "update", "partial_update"):
            qs = qs.select_related("owner").prefetch_related("tags")
        else:
            qs = qs.select_related("owner")
        return qs.order_by("name", "pk")

    def perform_destroy(self, instance: Client) -> None:
        services.client_delete(by=self.request.user, client=instance)

    def _shareable(self) -> Client:
        client = self.get_object()
        if not services.can_share(self.request.user, client):
            raise PermissionDenied(
                "Only the owner, the people above the owner and the director may share this client."
            )
        return client

    @extend_schema(responses=ShareListSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def shares(self, request: Request, pk: str | None = None) -> Response:
        """Who the client is shared with."""
        client = self.get_object()
        if not services.can_share(request.user, client):
            raise PermissionDenied
        data = ShareListSerializer(services.client_shares(client), many=True).data
        return Response(data)

    @extend_schema(request=ShareSerializer, responses=ShareListSerializer(many=True))
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def share(self, request: Request, pk: str | None = None) -> Response:
        """Share the client with an active user, to view or to edit (replaces an earlier share)."""
        client = self._shareable()
        body = ShareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.client_share(
            by=request.user,
            client=client,
            user=body.validated_data["user"],
            level=body.validated_data["level"],
        )
        data = ShareListSerializer(services.client_shares(client), many=True).data
        return Response(data)

    @extend_schema(request=UnshareSerializer, responses=ShareListSerializer(many=True))
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def unshare(self, request: Request, pk: str | None = None) -> Response:
        """Take back a share; the user stops seeing the client on their next request."""
        client = self._shareable()
        body = UnshareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.client_unshare(by=request.user, client=client, user=body.validated_data["user"])
        data = ShareListSerializer(services.client_shares(client), many=True).data
        return Response(data)

    @extend_schema(
        request=AssignAccountManagerSerializer,
        responses={200: ClientSerializer, 409: _CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="assign-account-manager",
        filter_backends=[],
        pagination_class=None,
    )
    def assign_account_manager(self, request: Request, pk: str | None = None) -> Response:
        """Set (or with `null` remove) the client's dedicated account manager."""
        client = self.get_object()
        if not services.can_assign_account_manager(request.user, access_for(request.user, client)):
            raise PermissionDenied
        body = AssignAccountManagerSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        services.client_assign_account_manager(
            by=request.user,
            client=client,
            account_manager=body.validated_data["account_manager"],
            expected_version=body.validated_data.get("version"),
        )
        return Response(ClientSerializer(client, context={"request": request}).data)


class ContactFilter(filters.FilterSet):
    class Meta:
        model = Contact
        fields = ["client", "is_primary", "decision_role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = kwargs.get("request")
        if request is not None:
            self.filters["client"].queryset = Client.objects.visible_to(request.user)


@extend_schema_view(
    update=extend_schema(responses={200: ContactSerializer, 409: _CONFLICT}),
    partial_update=extend_schema(responses={200: ContactSerializer, 409: _CONFLICT}),
)
class ContactViewSet(VisibleModelViewSet):
    """Contacts of the clients the caller may see."""

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["name", "client", "updated_at", "created_at"]
    ordering = ["client", "-is_primary", "name"]

    def get_queryset(self) -> QuerySet[Contact]:
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.select_related("client", "client__owner")
        return qs.order_by("client", "-is_primary", "name", "pk")

    def perform_destroy(self, instance: Contact) -> None:
        services.contact_delete(by=self.request.user, contact=instance)
