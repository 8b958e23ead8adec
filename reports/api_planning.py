"""``/api/v1/weekly-reports/`` and ``/api/v1/risks/`` (reports-planning).

Both start from ``visible_to`` (another person's record answers 404) and write
through the same services as the pages:

- weekly reports: a rep creates and edits their own draft, ``submit`` freezes
  the week's figures and makes it read-only, ``comments`` lists and adds
  comments (the manager's and the rep's answers). ``figures`` is the frozen
  set of a submitted report; a draft's live figures come with the single
  record (``GET /weekly-reports/{id}/``), not with every row of a list. A
  list carries each report's counts and totals but not the visits, stage
  moves and closed deals listed under them (up to a hundred of each, ~60 KB
  a report: fifty of them made a page of 2 MB), which the single record has;
- risks: the register with its score (likelihood × impact), and ``heatmap``:
  counts per (likelihood, impact) of the risks the filters select.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VersionedModelSerializer, VisibleModelViewSet
from accounts.services import assignable_managers
from reports import planning, weekly
from reports.models import Risk, WeeklyReport, WeeklyReportComment
from salesorg.lib.sql import JSONWithout


# ------------------------------------------------------------------ weekly reports
class WeeklyReportCommentSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.__str__", read_only=True)

    class Meta:
        model = WeeklyReportComment
        fields = ["id", "author", "author_name", "body", "created_at"]
        read_only_fields = ["author", "created_at"]


class WeeklyReportSerializer(VersionedModelSerializer):
    """A rep's report for one ISO week; ``owner`` is always the caller on create."""

    week = serializers.SerializerMethodField(help_text="The ISO week, e.g. 2026-W48.")
    week_start = serializers.DateField(
        help_text="Any day of the week (stored as its Monday); not in the future."
    )
    figures = serializers.SerializerMethodField(
        help_text="The week's activities by type, visits, deals moved, won and lost deals "
        "and new leads: frozen when submitted; live for a draft on the single record, "
        "null for drafts in lists. In lists, the counts and totals only: the listed "
        "visits, moves and closed deals come with the single record."
    )

    class Meta:
        model = WeeklyReport
        fields = [
            "id",
            "owner",
            "week",
            "week_start",
            "status",
            "customer_feedback",
            "market_info",
            "competitor_news",
            "next_week_forecast",
            "forecast_amount",
            "figures",
            "submitted_at",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["owner", "status", "submitted_at", "created_at", "updated_at"]
        validators: list = []  # one a week is the service's rule, with its own message

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            fields["week_start"].read_only = True
        return fields

    def get_week(self, obj: WeeklyReport) -> str:
        return obj.iso_week

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_figures(self, obj: WeeklyReport) -> dict[str, Any] | None:
        if obj.status == WeeklyReport.Status.SUBMITTED:
            # a list reads the summary (``figures_summary``), the single record all of it
            if "figures_summary" in obj.__dict__:
                return obj.figures_summary
            return obj.figures
        if self.context.get("live_figures"):
            return weekly.week_figures(
                owner=obj.owner, week_start=obj.week_start, viewer=self.context["request"].user
            ).to_json()
        return None

    def create(self, validated_data: dict[str, Any]) -> WeeklyReport:
        user = self.context["request"].user
        validated_data.pop("version", None)
        week_start = weekly.monday_of(validated_data.pop("week_start"))
        if WeeklyReport.objects.filter(owner=user, week_start=week_start).exists():
            raise serializers.ValidationError(
                {"week_start": ["There is already a report for this week; update it."]}
            )
        return weekly.report_save(by=user, week_start=week_start, **validated_data)

    def update(self, instance: WeeklyReport, validated_data: dict[str, Any]) -> WeeklyReport:
        version = validated_data.pop("version")
        return weekly.report_update(
            by=self.context["request"].user,
            report=instance,
            expected_version=version,
            **validated_data,
        )


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version you read.")


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=4000)


class WeeklyReportFilter(filters.FilterSet):
    week = filters.CharFilter(method="filter_week", help_text="ISO week, e.g. 2026-W48.")

    class Meta:
        model = WeeklyReport
        fields = {"owner": ["exact"], "status": ["exact"], "week_start": ["exact", "gte", "lte"]}

    def filter_week(self, qs: QuerySet[WeeklyReport], name: str, value: str) -> Any:
        monday = weekly.parse_week(value)
        return qs.filter(week_start=monday) if monday else qs.none()


class WeeklyReportViewSet(VisibleModelViewSet):
    """Weekly sales reports the caller may see: their own, their team's (and, for
    support staff, their region's)."""

    model = WeeklyReport
    serializer_class = WeeklyReportSerializer
    filterset_class = WeeklyReportFilter
    ordering_fields = ["week_start", "submitted_at"]
    ordering = ["-week_start", "pk"]
    action_permissions = {"submit": "reports.change_weeklyreport"}

    def get_queryset(self) -> QuerySet[WeeklyReport]:
        qs = super().get_queryset().select_related("owner")
        if self.action == "list":
            qs = qs.defer("figures").annotate(
                figures_summary=JSONWithout("figures", *weekly.LISTED_FIGURES)
            )
        return qs

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        context = {**self.get_serializer_context(), "live_figures": True}
        return Response(self.get_serializer_class()(report, context=context).data)

    def perform_destroy(self, instance: WeeklyReport) -> None:
        weekly.report_delete(by=self.request.user, report=instance)

    @extend_schema(request=VersionSerializer, responses=WeeklyReportSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Freeze the week's figures, make the report read-only and notify the manager."""
        report = self.get_object()
        payload = VersionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = weekly.report_submit(
            by=request.user, report=report, expected_version=payload.validated_data["version"]
        )
        return Response(self.get_serializer(report).data)

    @extend_schema(
        methods=["GET"], responses=WeeklyReportCommentSerializer(many=True), request=None
    )
    @extend_schema(
        methods=["POST"],
        request=CommentInputSerializer,
        responses={201: WeeklyReportCommentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        permission_classes=[permissions.IsAuthenticated],
        filterset_class=None,
        pagination_class=None,
    )
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """The report's comments; POST adds one (the rep, or someone above them who may comment)."""
        report = self.get_object()  # 404 when the report is not the caller's to see
        if request.method == "POST":
            payload = CommentInputSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            comment = weekly.report_comment(
                by=request.user, report=report, body=payload.validated_data["body"]
            )
            return Response(
                WeeklyReportCommentSerializer(comment).data, status=status.HTTP_201_CREATED
            )
        rows = report.comments.select_related("author")
        return Response(WeeklyReportCommentSerializer(rows, many=True).data)

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.action == "comments":
            return queryset
        return super().filter_queryset(queryset)


# --------------------------------------------------------------------------- risks
class RiskSerializer(VersionedModelSerializer):
    level = serializers.SerializerMethodField(
        help_text="low (score 1–4), medium (5–9), high (10–16) or critical (20–25)."
    )
    review_overdue = serializers.SerializerMethodField(
        help_text="The next review date has passed and the risk is not closed."
    )
    likelihood = serializers.IntegerField(min_value=1, max_value=5)
    impact = serializers.IntegerField(min_value=1, max_value=5)

    class Meta:
        model = Risk
        fields = [
            "id",
            "title",
            "description",
            "category",
            "likelihood",
            "impact",
            "score",
            "level",
            "response",
            "response_plan",
            "owner",
            "created_by",
            "review_date",
            "review_overdue",
            "status",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["score", "created_by", "created_at", "updated_at"]
        extra_kwargs = {"owner": {"required": False}}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["owner"].queryset = assignable_managers(request.user)
        return fields

    def get_level(self, obj: Risk) -> str:
        return planning.risk_level(obj.score)

    def get_review_overdue(self, obj: Risk) -> bool:
        return planning.review_overdue(obj, timezone.localdate())

    def create(self, validated_data: dict[str, Any]) -> Risk:
        validated_data.pop("version", None)
        return planning.risk_create(by=self.context["request"].user, **validated_data)

    def update(self, instance: Risk, validated_data: dict[str, Any]) -> Risk:
        version = validated_data.pop("version")
        risk = planning.risk_update(
            by=self.context["request"].user,
            risk=instance,
            expected_version=version,
            **validated_data,
        )
        risk.refresh_from_db(fields=["score"])
        return risk


class RiskFilter(filters.FilterSet):
    overdue = filters.BooleanFilter(method="filter_overdue", help_text="Review date passed.")

    class Meta:
        model = Risk
        fields = ["status", "category", "response", "owner", "likelihood", "impact"]

    def filter_overdue(self, qs: QuerySet[Risk], name: str, value: bool | None) -> Any:
        if value is None:
            return qs
        overdue = planning.overdue_reviews(qs, timezone.localdate())
        return overdue if value else qs.exclude(pk__in=overdue.values("pk"))


class HeatCellSerializer(serializers.Serializer):
    likelihood = serializers.IntegerField()
    impact = serializers.IntegerField()
    score = serializers.IntegerField()
    level = serializers.CharField()
    count = serializers.IntegerField()


class RiskViewSet(VisibleModelViewSet):
    """The risk register: risks the caller owns or recorded, and those of the people below."""

    model = Risk
    serializer_class = RiskSerializer
    filterset_class = RiskFilter
    search_fields = ["title", "description"]
    ordering_fields = ["score", "review_date", "created_at"]
    ordering = ["-score", "review_date", "pk"]

    def get_queryset(self) -> QuerySet[Risk]:
        return super().get_queryset().select_related("owner")

    def perform_destroy(self, instance: Risk) -> None:
        planning.delete_record(by=self.request.user, obj=instance)

    @extend_schema(
        responses=HeatCellSerializer(many=True),
        parameters=[
            OpenApiParameter("status", str, description="open, monitoring or closed"),
            OpenApiParameter("category", str),
            OpenApiParameter("owner", int),
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def heatmap(self, request: Request) -> Response:
        """25 cells (likelihood 1–5 × impact 1–5) with the number of risks in each."""
        qs = self.filter_queryset(self.get_queryset())
        cells = [
            {
                "likelihood": c.likelihood,
                "impact": c.impact,
                "score": c.score,
                "level": c.level,
                "count": c.count,
            }
            for row in planning.heat_map(qs)
            for c in row
        ]
        return Response(cells)
