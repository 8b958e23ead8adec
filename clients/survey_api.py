"""REST API of surveys: ``/api/v1/survey-templates/`` (read), ``/api/v1/surveys/``
(campaigns: read, create, send, close) and ``/api/v1/survey-responses/`` (read,
with NPS and CSAT, and a ``summary`` of the filtered set).

Lists start from ``visible_to(user)``; a campaign's counts cover only the
invitations of clients the caller sees. Creating and sending go through
``clients.surveys``, so the API refuses what the pages refuse.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.drf import VisibleModelViewSet
from clients import surveys
from clients.filters import ClientFilter, filtered
from clients.models import (
    Client,
    SurveyAnswer,
    SurveyCampaign,
    SurveyQuestion,
    SurveyResponse,
    SurveyTemplate,
)
from clients.survey_metrics import DETRACTOR_MAX, PROMOTER_MIN, figures


class CanView(permissions.BasePermission):
    """Reading needs the role's view permission on the model (AMs and reps have it)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        model = view.queryset.model if getattr(view, "queryset", None) is not None else view.model
        opts = model._meta
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


# ------------------------------------------------------------------- templates
class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyQuestion
        fields = ["id", "position", "kind", "text", "text_zh", "choices", "required"]


class TemplateSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = SurveyTemplate
        fields = [
            "id",
            "code",
            "kind",
            "name",
            "name_zh",
            "intro",
            "intro_zh",
            "is_builtin",
            "questions",
        ]


class SurveyTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    """Survey templates (built-in and custom) with their questions, in order."""

    queryset = SurveyTemplate.objects.prefetch_related("questions").order_by("name", "pk")
    serializer_class = TemplateSerializer
    permission_classes = [permissions.IsAuthenticated, CanView]
    filterset_fields = ["kind", "is_builtin", "code"]
    search_fields = ["name", "name_zh"]
    ordering_fields = ["name", "created_at"]


# ------------------------------------------------------------------- campaigns
class CampaignCountsSerializer(serializers.Serializer):
    invited = serializers.IntegerField()
    sent = serializers.IntegerField(help_text="E-mailed.")
    reminded = serializers.IntegerField()
    answered = serializers.IntegerField()
    expired = serializers.IntegerField(help_text="Past their expiry and not answered.")


class CampaignSerializer(serializers.ModelSerializer):
    template = serializers.SlugRelatedField(slug_field="code", read_only=True)
    counts = serializers.SerializerMethodField(
        help_text="Invitations of the clients you see, by state."
    )

    class Meta:
        model = SurveyCampaign
        fields = [
            "id",
            "key",
            "name",
            "template",
            "status",
            "created_by",
            "created_at",
            "sent_at",
            "remind_after_days",
            "expires_after_days",
            "project",
            "complaint",
            "counts",
        ]
        read_only_fields = fields

    @extend_schema_field(CampaignCountsSerializer)
    def get_counts(self, obj: SurveyCampaign) -> dict[str, int]:
        empty = dict.fromkeys(("invited", "sent", "reminded", "answered", "expired"), 0)
        found = self.context.get("counts", {}).get(obj.pk, {})
        return {k: found.get(k, 0) for k in empty}


class CampaignCreateSerializer(serializers.Serializer):
    template = serializers.SlugRelatedField(
        slug_field="code",
        queryset=SurveyTemplate.objects.all(),
        help_text="The survey template's code, e.g. “nps” or “quarterly-satisfaction”.",
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contacts = serializers.ChoiceField(
        choices=surveys.ContactChoice.choices, default=surveys.ContactChoice.PRIMARY
    )
    clients = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Client ids to survey (only clients you see count). Leave out to use "
        "``client_filters`` instead.",
    )
    client_filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="The filters of /api/v1/clients/ (status, segment, key_account, "
        "account_manager, industry, search…) choosing the clients.",
    )
    remind_after_days = serializers.IntegerField(min_value=1, max_value=364, default=7)
    expires_after_days = serializers.IntegerField(min_value=1, max_value=365, default=30)
    send = serializers.BooleanField(
        default=False, help_text="Send at once; otherwise the campaign stays a draft."
    )


class SurveyCampaignViewSet(VisibleModelViewSet):
    """Survey campaigns: who was invited to which survey, and how many answered.

    ``POST`` makes a campaign (a draft unless ``send`` is true) for the contacts
    of the clients you choose; ``send`` and ``close`` are actions on one campaign.
    """

    model = SurveyCampaign
    serializer_class = CampaignSerializer
    permission_classes = [*VisibleModelViewSet.permission_classes, CanView]
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {
        "send": "clients.change_surveycampaign",
        "close": "clients.change_surveycampaign",
    }
    filterset_fields = ["status", "project", "complaint"]
    search_fields = ["name"]
    ordering_fields = ["created_at", "sent_at", "name"]
    ordering = ["-created_at", "pk"]

    def get_queryset(self) -> QuerySet[SurveyCampaign]:
        qs = super().get_queryset().select_related("template")
        code = self.request.query_params.get("template")
        return qs.filter(template__code=code) if code else qs

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        counts = surveys.campaign_counts_by_campaign(request.user, [c.pk for c in rows])
        context = {**self.get_serializer_context(), "counts": counts}
        data = CampaignSerializer(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def _answer(self, campaign: SurveyCampaign, code: int = status.HTTP_200_OK) -> Response:
        context = {
            **self.get_serializer_context(),
            "counts": surveys.campaign_counts_by_campaign(self.request.user, [campaign.pk]),
        }
        campaign = SurveyCampaign.objects.select_related("template").get(pk=campaign.pk)
        return Response(CampaignSerializer(campaign, context=context).data, status=code)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(self.get_object())

    @extend_schema(request=CampaignCreateSerializer, responses={201: CampaignSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = CampaignCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        visible = Client.objects.visible_to(request.user)
        if "clients" in data:
            clients = visible.filter(pk__in=data["clients"])
        else:
            clients = filtered(
                ClientFilter(data.get("client_filters", {}), queryset=visible, request=request)
            )
        campaign = surveys.campaign_create(
            by=request.user,
            template=data["template"],
            name=data.get("name", ""),
            clients=clients,
            contacts=data["contacts"],
            remind_after_days=data["remind_after_days"],
            expires_after_days=data["expires_after_days"],
        )
        if data["send"]:
            campaign = surveys.campaign_send(by=request.user, campaign=campaign)
        return self._answer(campaign, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str | None = None) -> Response:
        """Send a draft campaign: the e-mails go out from a worker."""
        campaign = surveys.campaign_send(by=request.user, campaign=self.get_object())
        return self._answer(campaign)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close a campaign: its links take no more answers, no more reminders."""
        campaign = surveys.campaign_close(by=request.user, campaign=self.get_object())
        return self._answer(campaign)


# ------------------------------------------------------------------- responses
class AnswerSerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(source="question.position")
    kind = serializers.CharField(source="question.kind")
    question_text = serializers.CharField(source="question.text")

    class Meta:
        model = SurveyAnswer
        fields = ["question", "position", "kind", "question_text", "number", "choice", "text"]


class ResponseSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="invitation.campaign_id")
    survey = serializers.CharField(
        source="invitation.campaign.template.code", help_text="The survey template's code."
    )
    nps_category = serializers.SerializerMethodField(
        help_text="promoter (9–10), passive (7–8) or detractor (0–6); null without an NPS answer."
    )
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "campaign",
            "survey",
            "client",
            "contact",
            "submitted_at",
            "language",
            "nps_score",
            "nps_category",
            "csat_score",
            "answers",
        ]

    @extend_schema_field(OpenApiTypes.STR)
    def get_nps_category(self, obj: SurveyResponse) -> str | None:
        if obj.nps_score is None:
            return None
        if obj.nps_score >= PROMOTER_MIN:
            return "promoter"
        return "detractor" if obj.nps_score <= DETRACTOR_MAX else "passive"


class ResponseFilter(filters.FilterSet):
    campaign = filters.NumberFilter(field_name="invitation__campaign")
    survey = filters.CharFilter(field_name="invitation__campaign__template__code")
    submitted_after = filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="lt")
    nps_min = filters.NumberFilter(field_name="nps_score", lookup_expr="gte")
    nps_max = filters.NumberFilter(field_name="nps_score", lookup_expr="lte")

    class Meta:
        model = SurveyResponse
        fields = ["client", "contact"]


class SummarySerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    nps = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="% promoters − % detractors."
    )
    csat_mean = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    satisfied_share = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="% of responses averaging ≥ 4."
    )


class SurveyResponseViewSet(VisibleModelViewSet):
    """Survey answers of the clients you see, with each response's NPS and CSAT."""

    model = SurveyResponse
    serializer_class = ResponseSerializer
    permission_classes = [*VisibleModelViewSet.permission_classes, CanView]
    http_method_names = ["get", "head", "options"]
    filterset_class = ResponseFilter
    ordering_fields = ["submitted_at", "nps_score", "csat_score"]
    ordering = ["-submitted_at", "pk"]

    def get_queryset(self) -> QuerySet[SurveyResponse]:
        return (
            super()
            .get_queryset()
            .select_related("invitation__campaign__template")
            .prefetch_related(
                Prefetch(
                    "answers",
                    queryset=SurveyAnswer.objects.select_related("question").order_by(
                        "question__position", "question__pk"
                    ),
                )
            )
        )

    @extend_schema(responses=SummarySerializer)
    @action(detail=False, methods=["get"])
    def summary(self, request: Request) -> Response:
        """NPS and CSAT over the responses the filters select (one SQL aggregate)."""
        qs = self.filter_queryset(super().get_queryset())
        result = figures(qs)
        return Response(
            SummarySerializer(
                {
                    "responses": result.responses,
                    "promoters": result.nps.promoters,
                    "passives": result.nps.passives,
                    "detractors": result.nps.detractors,
                    "nps": result.nps.score,
                    "csat_mean": result.csat.mean,
                    "satisfied_share": result.csat.satisfied_share,
                }
            ).data
        )
