"""``/api/v1/projects/``: delivery projects, their status (``transition``), and their
milestones and tasks as sub-resources (``/projects/{id}/milestones/``, ``.../tasks/``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from accounts.models import User
from accounts.visibility import access_for, get_for_user
from pipeline.models import Contract, Deal, Milestone, Project, Task
from pipeline.services import projects as service


def _scope_users(field: serializers.Field, request: Any) -> None:
    field.queryset = User.objects.visible_to(request.user).active()


class ProjectSerializer(VersionedModelSerializer):
    """A delivery project; its status changes only through ``transition``."""

    deal = serializers.PrimaryKeyRelatedField(
        queryset=Deal.objects.none(), help_text="The won deal the project delivers."
    )
    progress = serializers.IntegerField(
        read_only=True, help_text="Done tasks and milestones ÷ all of them, in %."
    )
    overdue_count = serializers.IntegerField(
        read_only=True, help_text="Milestones past their due date and not done."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "client",
            "deal",
            "contract",
            "owner",
            "goals",
            "status",
            "start_date",
            "due_date",
            "completed_on",
            "progress",
            "overdue_count",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["client", "status", "completed_on", "created_at", "updated_at"]
        extra_kwargs = {"owner": {"required": False}}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["deal"].queryset = Deal.objects.visible_to(request.user).select_related(
                "stage", "client__account_manager", "owner"
            )
            fields["contract"].queryset = Contract.objects.visible_to(request.user)
            _scope_users(fields["owner"], request)
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["deal"].read_only = True
        return fields

    def create(self, validated_data: dict[str, Any]) -> Project:
        user = self.context["request"].user
        deal = validated_data.pop("deal")
        if not access_for(user, deal).can_change:
            raise DjangoPermissionDenied
        validated_data.pop("version", None)
        return service.project_create_from_deal(deal=deal, by=user, **validated_data)

    def update(self, instance: Project, validated_data: dict[str, Any]) -> Project:
        version = validated_data.pop("version")
        return service.project_update(
            project=instance,
            by=self.context["request"].user,
            expected_version=version,
            **validated_data,
        )


class ProjectTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Project.Status.choices)
    version = serializers.IntegerField(required=False, min_value=1)


class ProjectViewSet(VisibleModelViewSet):
    """Delivery projects the caller sees, with progress computed in the database."""

    model = Project
    serializer_class = ProjectSerializer
    filterset_fields = ["status", "client", "owner", "deal", "contract"]
    search_fields = ["name", "client__name"]
    ordering_fields = ["created_at", "due_date", "start_date", "name"]
    ordering = ["-created_at", "pk"]
    action_permissions = {"transition": "pipeline.change_project"}

    def get_queryset(self) -> QuerySet[Project]:
        return service.with_progress(super().get_queryset())

    def perform_destroy(self, instance: Project) -> None:
        service.project_delete(project=instance, by=self.request.user)

    def _answer(self, project: Project, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=project.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = serializer.save()
        return self._answer(project, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self._answer(serializer.save())

    @extend_schema(request=ProjectTransitionSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Start, hold, resume, complete (sets completed_on) or cancel the project."""
        project = self.get_object()
        body = ProjectTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service.project_transition(
            project=project,
            to_status=body.validated_data["status"],
            by=request.user,
            expected_version=body.validated_data.get("version"),
        )
        return self._answer(project)


# ------------------------------------------------------------- sub-resources
PROJECT_PARAM = OpenApiParameter(
    "project_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The project's id."
)
_SUB_SCHEMA = {
    name: extend_schema(parameters=[PROJECT_PARAM])
    for name in ("list", "create", "retrieve", "update", "partial_update", "destroy")
}


class _ProjectChildViewSet(VisibleModelViewSet):
    """Children of one project; writes need the right to change that project."""

    def project(self, *, for_change: bool) -> Project:
        access = get_for_user(
            self.request.user,
            Project.objects.select_related("client"),
            pk=self.kwargs["project_pk"],
        )
        if for_change and not access.can_change:
            raise DjangoPermissionDenied
        return access.obj

    def check_permissions(self, request: Request) -> None:
        # "not yours" (404 on the project) before "not allowed" (403 on the role)
        if not getattr(self, "swagger_fake_view", False):
            self.project(for_change=False)
        super().check_permissions(request)

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema generator
            return self.model._default_manager.none()
        return super().get_queryset().filter(project_id=self.kwargs["project_pk"])

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.project(for_change=False)  # 404 for a project the caller does not see
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.project(for_change=True)  # 404 / 403 before the body is even validated
        return super().create(request, *args, **kwargs)


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = [
            "id",
            "project",
            "name",
            "owner",
            "due_date",
            "status",
            "completed_on",
            "position",
        ]
        read_only_fields = ["project", "completed_on"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            _scope_users(fields["owner"], request)
        return fields


@extend_schema_view(**_SUB_SCHEMA)
class MilestoneViewSet(_ProjectChildViewSet):
    """A project's milestones: owner, due date and status (done records the date)."""

    model = Milestone
    serializer_class = MilestoneSerializer
    filterset_fields = ["status", "owner"]
    ordering_fields = ["due_date", "position"]
    ordering = ["due_date", "position", "pk"]

    def perform_create(self, serializer: MilestoneSerializer) -> None:
        project = self.project(for_change=True)
        serializer.instance = service.milestone_save(
            project=project, by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: MilestoneSerializer) -> None:
        project = self.project(for_change=True)
        serializer.instance = service.milestone_save(
            project=project,
            by=self.request.user,
            milestone=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Milestone) -> None:
        self.project(for_change=True)
        service.milestone_delete(milestone=instance, by=self.request.user)


class TaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = Task
        fields = ["id", "project", "milestone", "title", "owner", "due_date", "done", "done_at"]
        read_only_fields = ["project", "done_at"]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        view = self.context.get("view")
        if request is not None and request.user.is_authenticated:
            _scope_users(fields["owner"], request)
            project_pk = getattr(view, "kwargs", {}).get("project_pk")
            fields["milestone"].queryset = Milestone.objects.filter(project_id=project_pk)
        return fields


@extend_schema_view(**_SUB_SCHEMA)
class TaskViewSet(_ProjectChildViewSet):
    """A project's tasks, optionally under one of its milestones."""

    model = Task
    serializer_class = TaskSerializer
    filterset_fields = ["done", "owner", "milestone"]
    ordering_fields = ["due_date"]
    ordering = ["done", "due_date", "pk"]

    def perform_create(self, serializer: TaskSerializer) -> None:
        project = self.project(for_change=True)
        serializer.instance = service.task_save(
            project=project, by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: TaskSerializer) -> None:
        project = self.project(for_change=True)
        serializer.instance = service.task_save(
            project=project,
            by=self.request.user,
            task=serializer.instance,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Task) -> None:
        self.project(for_change=True)
        service.task_delete(task=instance, by=self.request.user)
