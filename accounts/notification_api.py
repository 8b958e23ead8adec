"""``/api/v1/notifications/``: the caller's own notifications, and marking them read."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Notification
from accounts.notifications import (
    kind_label,
    notification_mark_read,
    notifications_mark_all_read,
    unread_count,
)


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField()
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_label",
            "title",
            "body",
            "url",
            "created_at",
            "read_at",
            "is_read",
            "emailed_at",
        ]
        read_only_fields = fields

    def get_kind_label(self, obj: Notification) -> str:
        return kind_label(obj.kind)

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationFilter(filters.FilterSet):
    unread = filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="only unread (true) or only read (false)"
    )

    class Meta:
        model = Notification
        fields = ["kind", "unread"]


_COUNT = inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})
_MARKED = inline_serializer("MarkedRead", {"marked_read": serializers.IntegerField()})


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's notifications, newest first. Another person's answers 404."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    search_fields = ["title", "body"]
    ordering_fields = ["created_at", "kind"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self) -> QuerySet[Notification]:
        return Notification.objects.visible_to(self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer, summary="Mark one read")
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        note = notification_mark_read(user=request.user, notification=self.get_object())
        return Response(self.get_serializer(note).data)

    @extend_schema(request=None, responses=_MARKED, summary="Mark all read")
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        return Response({"marked_read": notifications_mark_all_read(user=request.user)})

    @extend_schema(responses=_COUNT, summary="Unread count (capped at 100)")
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request: Request) -> Response:
        return Response({"unread": unread_count(request.user)})
