"""``/api/v1/complaints/``: complaints with their conversation log and escalations.

List, retrieve, create (log) and PATCH of the details go through
``clients.complaints`` like the pages; the status moves only through the POST
actions ``respond``, ``note``, ``resolve``, ``close``, ``reopen`` (and
``reassign`` for managers), so the API cannot skip a step the pages enforce.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from accounts.models import User
from clients import complaints as service
from clients.filters import visible_clients, visible_users
from clients.models import (
    Client,
    Complaint,
    ComplaintEntry,
    ComplaintEscalation,
    Contact,
    overdue_q,
)

_CONFLICT = OpenApiResponse(
    description="The complaint changed since you read it (stale `version`)."
)
_VERSION_HELP = "The version you read; if the complaint changed since, the step answers 409."


class ComplaintEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ComplaintEntry
        fields = ["id", "kind", "text", "author", "at"]
        read_only_fields = fields


class ComplaintEscalationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComplaintEscalation
        fields = ["level", "escalated_to", "at", "reason"]
        read_only_fields = fields


class ComplaintSerializer(VersionedModelSerializer):
    """A complaint; status, owner and the SLA fields change only through the actions."""

    answered_within_sla = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="Empty until the first response."
    )
    entries = ComplaintEntrySerializer(
        many=True, read_only=True, help_text="The conversation and response log, oldest first."
    )
    escalations = ComplaintEscalationSerializer(many=True, read_only=True)

    class Meta:
        model = Complaint
        fields = [
            "id",
            "version",
            "client",
            "contact",
            "channel",
            "category",
            "severity",
            "subject",
            "description",
            "owner",
            "logged_by",
            "received_at",
            "sla_due_at",
            "first_response_at",
            "answered_within_sla",
            "status",
            "resolution",
            "resolved_at",
            "closed_at",
            "escalation_level",
            "reopened_count",
            "entries",
            "escalations",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "owner",
            "logged_by",
            "sla_due_at",
            "first_response_at",
            "status",
            "resolution",
            "resolved_at",
            "closed_at",
            "escalation_level",
            "reopened_count",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "client": {"help_text": "Client id; fixed once logged."},
            "contact": {"help_text": "Contact id, one of the client's contacts."},
            "received_at": {
                "required": False,
                "help_text": "When the client complained; default now. The first response "
                "is due a number of hours later that depends on the severity.",
            },
        }

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        writing = (
            request is not None
            and request.user.is_authenticated
            and request.method not in permissions.SAFE_METHODS
        )
        if writing:
            # An id the caller cannot see reads as "does not exist": no probing.
            fields["client"].queryset = Client.objects.visible_to(request.user)
            fields["contact"].queryset = Contact.objects.visible_to(request.user)
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["client"].read_only = True
        return fields

    def create(self, validated_data: dict[str, Any]) -> Complaint:
        validated_data.pop("version", None)
        return service.complaint_log(by=self.context["request"].user, **validated_data)

    def update(self, instance: Complaint, validated_data: dict[str, Any]) -> Complaint:
        version = validated_data.pop("version")
        return service.complaint_update(
            by=self.context["request"].user,
            complaint=instance,
            expected_version=version,
            **validated_data,
        )


class _ComplaintStep(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1, help_text=_VERSION_HELP)


class ComplaintRespondSerializer(_ComplaintStep):
    text = serializers.CharField(help_text="What the client was told.")


class ComplaintNoteSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="An internal note; it is not a response.")


class ComplaintResolveSerializer(_ComplaintStep):
    resolution = serializers.CharField(help_text="How the complaint was resolved.")


class ComplaintCloseSerializer(_ComplaintStep):
    note = serializers.CharField(required=False, allow_blank=True)


class ComplaintReopenSerializer(_ComplaintStep):
    reason = serializers.CharField(help_text="Why the complaint is reopened.")


class ComplaintReassignSerializer(_ComplaintStep):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), help_text="User id of an active person of your team."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["owner"].queryset = service.assignable_owners(request.user)
        return fields


class ComplaintFilter(filters.FilterSet):
    # Only what the caller sees is offered, and a hidden id is as invalid as an
    # unknown one (400), so ids cannot be probed.
    client = filters.ModelChoiceFilter(queryset=visible_clients)
    owner = filters.ModelChoiceFilter(queryset=visible_users)
    overdue = filters.BooleanFilter(
        method="filter_overdue", label="No first response and past the deadline"
    )

    class Meta:
        model = Complaint
        fields = ["status", "severity", "category", "channel", "client", "owner"]

    def filter_overdue(
        self, queryset: QuerySet[Complaint], name: str, value: bool | None
    ) -> QuerySet[Complaint]:
        if value is None:
            return queryset
        overdue = overdue_q(timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


@extend_schema_view(
    partial_update=extend_schema(responses={200: ComplaintSerializer, 409: _CONFLICT}),
    update=extend_schema(responses={200: ComplaintSerializer, 409: _CONFLICT}),
)
class ComplaintViewSet(VisibleModelViewSet):
    """Complaints of the clients and people the caller sees."""

    model = Complaint
    serializer_class = ComplaintSerializer
    filterset_class = ComplaintFilter
    search_fields = ["subject", "client__name"]
    ordering_fields = ["received_at", "sla_due_at", "escalation_level", "status"]
    ordering = ["-received_at", "pk"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    action_permissions = {
        "respond": "clients.change_complaint",
        "resolve": "clients.change_complaint",
        "close": "clients.change_complaint",
        "reopen": "clients.change_complaint",
        "reassign": "clients.reassign_complaint",
    }

    def get_queryset(self) -> QuerySet[Complaint]:
        return super().get_queryset().prefetch_related("entries", "escalations")

    def _answer(self, complaint: Complaint, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=complaint.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def _body(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        body = serializer_class(data=self.request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    def _step(self, body_cls: type[_ComplaintStep], fn: Callable[..., Complaint]) -> Response:
        """One status step: the complaint (404/403 as ``get_object``), the body checked
        by ``body_cls`` (its fields are ``fn``'s keywords), then ``fn``."""
        complaint = self.get_object()
        data = self._body(body_cls)
        expected_version = data.pop("version", None)
        fn(by=self.request.user, complaint=complaint, expected_version=expected_version, **data)
        return self._answer(complaint)

    @extend_schema(
        request=ComplaintRespondSerializer, responses={200: ComplaintSerializer, 409: _CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def respond(self, request: Request, pk: str | None = None) -> Response:
        """Record a response to the client; the first one stops the SLA clock."""
        return self._step(ComplaintRespondSerializer, service.complaint_respond)

    @extend_schema(request=ComplaintNoteSerializer, responses={201: ComplaintEntrySerializer})
    @action(detail=True, methods=["post"])
    def note(self, request: Request, pk: str | None = None) -> Response:
        """Add an internal note (support staff may too; it changes nothing else)."""
        # No right to change the complaint is needed, only to see it and add notes.
        try:
            complaint = self.get_queryset().get(pk=int(pk or ""))
        except (Complaint.DoesNotExist, ValueError):
            raise Http404 from None
        if not request.user.has_perm("clients.add_complaintentry"):
            raise PermissionDenied
        data = self._body(ComplaintNoteSerializer)
        entry = service.complaint_note(by=request.user, complaint=complaint, text=data["text"])
        return Response(ComplaintEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ComplaintResolveSerializer, responses={200: ComplaintSerializer, 409: _CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Resolve the complaint, saying how (open or responded complaints only)."""
        return self._step(ComplaintResolveSerializer, service.complaint_resolve)

    @extend_schema(
        request=ComplaintCloseSerializer, responses={200: ComplaintSerializer, 409: _CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close a resolved complaint."""
        return self._step(ComplaintCloseSerializer, service.complaint_close)

    @extend_schema(
        request=ComplaintReopenSerializer, responses={200: ComplaintSerializer, 409: _CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        """Reopen a resolved or closed complaint; the first-response SLA is not restarted."""
        return self._step(ComplaintReopenSerializer, service.complaint_reopen)

    @extend_schema(
        request=ComplaintReassignSerializer, responses={200: ComplaintSerializer, 409: _CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        """Give the complaint to another person of the manager's team."""
        return self._step(ComplaintReassignSerializer, service.complaint_reassign)
