"""``/api/v1/reports/…``: the KPIs of ``reports.kpis`` as JSON, CSV and XLSX.

Every endpoint takes the same scope and period parameters:

- ``scope``: ``person``, ``line`` (a person and everyone below them), ``team``
  or ``company``, with ``id`` (the user's or team's id) for the first three.
  Default: the company for the director; for support staff their region; for
  someone who leads a team, that team; else the caller (alone) or their line.
  A person or team outside the caller's part of the organisation answers 404,
  the company's figures 403 for anyone but the director.
- ``period``: ``day``, ``week``, ``month`` (default), ``quarter``, ``year`` with
  ``date`` (a day in it, default today), or ``custom`` with ``start`` and
  ``end`` (both included). Days are Asia/Shanghai calendar days.
- ``source``: ``auto`` (default), ``live`` or ``rollup`` for the figures the
  daily rollup keeps (see ``reports.kpis.Source``).
- ``export=csv`` or ``export=xlsx`` downloads the report's table instead.

``GET /api/v1/reports/<kpi>/`` answers ``{"scope", "period", "result"}``;
``GET /api/v1/reports/<kpi>/records/`` lists the records behind the number
that the caller may see (paginated; ``part`` picks a piece of it);
``/api/v1/reports/breakdown/?by=person|team|day|week|month|quarter`` groups
every daily measure; ``/api/v1/reports/scopes/`` lists the scopes the caller
may ask for.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Team, User
from reports import kpis
from reports.kpis.facts import FACT_FIELDS, MEASURES, MONEY_FIELDS
from reports.kpis.registry import (
    KPIS,
    Options,
    ordered_ids,
    record_kind,
    record_rows,
    record_table_header,
    record_table_rows,
    records_by_ids,
)
from salesorg.lib.export import EXPORT_FORMATS, ReportTable, export_table
from salesorg.lib.pagination import CappedPageNumberPagination

MONEY = {"max_digits": 18, "decimal_places": 2}
RATIO = {"max_digits": 7, "decimal_places": 4, "allow_null": True}
PERCENT = {"max_digits": 7, "decimal_places": 1, "allow_null": True}


# ---------------------------------------------------------------------- parameters
class ReportQuerySerializer(serializers.Serializer):
    scope = serializers.ChoiceField(
        kpis.ScopeKind.choices,
        required=False,
        help_text="Whose figures. Default: the company for the director, a support person's "
        "region, the team you lead, else yourself or your line.",
    )
    id = serializers.IntegerField(
        required=False, min_value=1, help_text="The person's (person, line) or team's id."
    )
    period = serializers.ChoiceField(kpis.PeriodKind.choices, default=kpis.PeriodKind.MONTH)
    date = serializers.DateField(
        required=False, help_text="A day in the period (default: today, Asia/Shanghai)."
    )
    start = serializers.DateField(required=False, help_text="First day of a custom period.")
    end = serializers.DateField(required=False, help_text="Last day of a custom period (included).")
    source = serializers.ChoiceField(kpis.Source.choices, default=kpis.Source.AUTO)
    export = serializers.ChoiceField(
        EXPORT_FORMATS, required=False, help_text="Download the report's table instead."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs.get("scope")
        if kind in (kpis.ScopeKind.PERSON, kpis.ScopeKind.LINE, kpis.ScopeKind.TEAM) and not (
            attrs.get("id")
        ):
            raise ValidationError({"id": _("Say which person or team.")})
        if attrs["period"] == kpis.PeriodKind.CUSTOM and not (
            attrs.get("start") and attrs.get("end")
        ):
            raise ValidationError({"start": _("A custom period needs a start and an end.")})
        return attrs


class RecordsQuerySerializer(ReportQuerySerializer):
    part = serializers.CharField(required=False, help_text="A piece of the number (see below).")
    stage = serializers.IntegerField(required=False, min_value=1, help_text="A stage's id.")
    month = serializers.DateField(
        required=False, help_text="Weighted pipeline: a day in the expected close month."
    )


class StateQuerySerializer(ReportQuerySerializer):
    as_of = serializers.DateField(
        required=False, help_text="The day to read at (default: the period's last day or today)."
    )


class StateRecordsQuerySerializer(RecordsQuerySerializer):
    as_of = serializers.DateField(
        required=False, help_text="The day to read at (default: the period's last day or today)."
    )


class RfmQuerySerializer(StateQuerySerializer):
    recency = serializers.IntegerField(required=False, min_value=1, max_value=5)
    frequency = serializers.IntegerField(required=False, min_value=1, max_value=5)
    monetary = serializers.IntegerField(required=False, min_value=1, max_value=5)
    segment = serializers.ChoiceField(list(kpis.RFM_SEGMENTS), required=False)


class BreakdownQuerySerializer(ReportQuerySerializer):
    by = serializers.ChoiceField(kpis.BREAKDOWNS, default="month")


def parse(request: Request, query: type[serializers.Serializer]) -> dict[str, Any]:
    """Validated parameters with the scope (checked against the caller) and the period."""
    params = query(data=request.query_params)
    params.is_valid(raise_exception=True)
    values = dict(params.validated_data)
    viewer = request.user
    kind = values.get("scope")
    values["scope"] = (
        kpis.resolve_scope(viewer, kind, values.get("id")) if kind else kpis.default_scope(viewer)
    )
    if values["period"] == kpis.PeriodKind.CUSTOM:
        values["period"] = kpis.Period.custom(values["start"], values["end"])
    else:
        values["period"] = kpis.Period.containing(
            values["period"], values.get("date") or timezone.localdate()
        )
    return values


def options_of(values: dict[str, Any]) -> Options:
    names = set(Options.__dataclass_fields__)
    return Options(**{k: v for k, v in values.items() if k in names and v is not None})


# ------------------------------------------------------------------- serializers
class ReportScopeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(kpis.ScopeKind.choices)
    id = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()


class ReportPeriodSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(kpis.PeriodKind.choices)
    start = serializers.DateField()
    end = serializers.DateField(source="last", help_text="The last day (included).")
    label = serializers.CharField()


class _Rate(serializers.Serializer):
    rate = serializers.DecimalField(**RATIO, help_text="A fraction (0.6500), null when 0 ÷ 0.")
    percent = serializers.DecimalField(**PERCENT)


class WonRevenueSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, help_text="CNY; other currencies are left out.")
    deals = serializers.IntegerField()
    other_currency = serializers.IntegerField(help_text="Won deals in other currencies.")
    source = serializers.CharField()


class WinRateSerializer(_Rate):
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    source = serializers.CharField()


class VisitConversionSerializer(_Rate):
    visited = serializers.IntegerField(help_text="Prospects visited in the period.")
    converted = serializers.IntegerField(help_text="Of those, with a won deal since.")


class FunnelStageSerializer(serializers.Serializer):
    stage_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    deals = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    weighted_amount = serializers.DecimalField(**MONEY)
    other_currency = serializers.IntegerField()


class FunnelSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    source = serializers.CharField()
    deals = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    weighted_amount = serializers.DecimalField(**MONEY)
    stages = FunnelStageSerializer(many=True)


class StageStepSerializer(_Rate):
    stage_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    entered = serializers.IntegerField(help_text="Deals that entered the stage in the period.")
    advanced = serializers.IntegerField(help_text="Of those, moved to a further stage or won.")


class StageConversionSerializer(serializers.Serializer):
    steps = StageStepSerializer(many=True)
    bottleneck = serializers.SerializerMethodField(help_text="The stage id with the lowest rate.")

    def get_bottleneck(self, obj: kpis.StageConversion) -> int | None:
        return obj.bottleneck.stage_id if obj.bottleneck else None


class NegotiationCycleSerializer(serializers.Serializer):
    contracts = serializers.IntegerField(help_text="New contracts whose deal was negotiated.")
    total_days = serializers.IntegerField()
    average_days = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    source = serializers.CharField()


class AverageContractSerializer(serializers.Serializer):
    contracts = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY, help_text="CNY; other currencies are left out.")
    average = serializers.DecimalField(**MONEY, allow_null=True)
    other_currency = serializers.IntegerField()
    source = serializers.CharField()


class RenewalRateSerializer(_Rate):
    ended = serializers.IntegerField()
    renewed = serializers.IntegerField()
    source = serializers.CharField()


class AttainmentSerializer(serializers.Serializer):
    target = serializers.DecimalField(**MONEY, help_text="0 when no target is set.")
    won = serializers.DecimalField(**MONEY)
    target_id = serializers.IntegerField(allow_null=True)
    ratio = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    percent = serializers.DecimalField(max_digits=10, decimal_places=1, allow_null=True)


class PipelineMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    deals = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    weighted_amount = serializers.DecimalField(**MONEY)
    other_currency = serializers.IntegerField()


class WeightedPipelineSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    weighted_amount = serializers.DecimalField(**MONEY)
    months = PipelineMonthSerializer(many=True)


class NpsSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    score = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    source = serializers.CharField()


class CsatSerializer(serializers.Serializer):
    responses = serializers.IntegerField()
    total = serializers.DecimalField(**MONEY)
    average = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    source = serializers.CharField()


class ComplaintSlaSerializer(_Rate):
    received = serializers.IntegerField()
    in_sla = serializers.IntegerField()
    missed = serializers.IntegerField()
    source = serializers.CharField()


class CadenceComplianceSerializer(_Rate):
    as_of = serializers.DateField()
    clients = serializers.IntegerField()
    on_cadence = serializers.IntegerField()
    overdue = serializers.IntegerField()


class ActivityVsTargetsSerializer(serializers.Serializer):
    calls = serializers.IntegerField(help_text="Done calls and follow-up calls.")
    visits = serializers.IntegerField()
    demos = serializers.IntegerField()
    expected_calls = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    expected_visits = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    expected_demos = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
    workdays = serializers.IntegerField()
    people_with_targets = serializers.IntegerField()
    source = serializers.CharField()


class RfmCellSerializer(serializers.Serializer):
    recency = serializers.IntegerField()
    frequency = serializers.IntegerField()
    monetary = serializers.IntegerField()
    segment = serializers.CharField()
    clients = serializers.IntegerField()


class RfmDistributionSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    scored = serializers.IntegerField()
    segments = serializers.DictField(child=serializers.IntegerField())
    cells = RfmCellSerializer(many=True)


def _totals_fields() -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {}
    for name in FACT_FIELDS:
        fields[name] = (
            serializers.DecimalField(**MONEY)
            if name in MONEY_FIELDS
            else serializers.IntegerField()
        )
    fields["calls"] = serializers.IntegerField(help_text="act_call + act_follow_up")
    fields["activities"] = serializers.IntegerField()
    fields["source"] = serializers.CharField()
    return fields


TotalsSerializer = type("ReportTotalsSerializer", (serializers.Serializer,), _totals_fields())

RESULT_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "summary": TotalsSerializer,
    "won-revenue": WonRevenueSerializer,
    "win-rate": WinRateSerializer,
    "visit-conversion": VisitConversionSerializer,
    "funnel": FunnelSerializer,
    "stage-conversion": StageConversionSerializer,
    "negotiation-cycle": NegotiationCycleSerializer,
    "average-contract": AverageContractSerializer,
    "renewal-rate": RenewalRateSerializer,
    "attainment": AttainmentSerializer,
    "weighted-pipeline": WeightedPipelineSerializer,
    "nps": NpsSerializer,
    "csat": CsatSerializer,
    "complaint-sla": ComplaintSlaSerializer,
    "cadence-compliance": CadenceComplianceSerializer,
    "activities": ActivityVsTargetsSerializer,
    "rfm": RfmDistributionSerializer,
}

QUERY_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "funnel": StateQuerySerializer,
    "cadence-compliance": StateQuerySerializer,
    "rfm": RfmQuerySerializer,
}


RECORDS_QUERY_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "funnel": StateRecordsQuerySerializer,
    "cadence-compliance": StateRecordsQuerySerializer,
    "rfm": RfmQuerySerializer,
}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def envelope(name: str, result: type[serializers.Serializer]) -> type[serializers.Serializer]:
    return type(
        f"{_camel(name)}Report",
        (serializers.Serializer,),
        {"scope": ReportScopeSerializer(), "period": ReportPeriodSerializer(), "result": result()},
    )


class ReportRecordSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="deal, activity, client, contract, complaint, …")
    id = serializers.IntegerField()
    label = serializers.CharField()
    url = serializers.CharField(help_text="The record's page (its client's when it has none).")
    owner = serializers.IntegerField(help_text="Whose it is in the figures (a user id).")
    owner_name = serializers.CharField()
    client = serializers.IntegerField(allow_null=True)
    client_name = serializers.CharField()
    date = serializers.CharField(allow_null=True, help_text="ISO date or local date-time.")
    amount = serializers.DecimalField(**MONEY, allow_null=True)
    currency = serializers.CharField()
    status = serializers.CharField()

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        value = instance.get("date")
        if isinstance(value, date):
            instance = {**instance, "date": value.isoformat()}
        return super().to_representation(instance)


# -------------------------------------------------------------------------- views
def _filename(name: str, values: dict[str, Any]) -> str:
    scope: kpis.Scope = values["scope"]
    period: kpis.Period = values["period"]
    who = scope.kind if scope.id is None else f"{scope.kind}{scope.id}"
    return f"{name}_{who}_{period.start:%Y%m%d}-{period.last:%Y%m%d}"


class _ReportBase(generics.GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: ClassVar[list[Any]] = []
    pagination_class = None
    kpi: ClassVar[str] = ""

    def envelope(self, values: dict[str, Any], result: Any) -> dict[str, Any]:
        return {
            "scope": ReportScopeSerializer(values["scope"]).data,
            "period": ReportPeriodSerializer(values["period"]).data,
            "result": result,
        }


class KpiView(_ReportBase):
    """One KPI for a scope and period (see the module docstring)."""

    def get(self, request: Request) -> Any:
        kpi = KPIS[self.kpi]
        values = parse(request, QUERY_SERIALIZERS.get(self.kpi, ReportQuerySerializer))
        result = kpi.compute(values["scope"], values["period"], options_of(values))
        if values.get("export"):
            header, rows = kpi.table(result)
            table = ReportTable(_filename(self.kpi, values), header, rows, sheet=self.kpi)
            return export_table(table, values["export"])
        data = RESULT_SERIALIZERS[self.kpi](result).data
        return Response(self.envelope(values, data))


class RecordsView(_ReportBase):
    """The records behind a KPI that the caller may see, newest first by the date each shows."""

    pagination_class = CappedPageNumberPagination

    def get(self, request: Request) -> Any:
        kpi = KPIS[self.kpi]
        values = parse(request, RECORDS_QUERY_SERIALIZERS.get(self.kpi, RecordsQuerySerializer))
        part = values.get("part")
        if part and part not in kpi.parts:
            raise ValidationError({"part": _("Choose one of: %s") % ", ".join(kpi.parts)})
        if self.kpi == "stage-conversion" and not values.get("stage"):
            raise ValidationError({"stage": _("Say which stage.")})
        assert kpi.records is not None
        qs = kpi.records(values["scope"], values["period"], request.user, options_of(values))
        if values.get("export"):
            table = ReportTable(
                _filename(f"{self.kpi}-records", values),
                record_table_header(),
                record_table_rows(qs),
                sheet=self.kpi,
            )
            return export_table(table, values["export"])
        kind = record_kind(qs)
        page = self.paginate_queryset(ordered_ids(qs))
        return self.get_paginated_response(
            ReportRecordSerializer(record_rows(records_by_ids(qs, page), kind), many=True).data
        )


class BreakdownRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="User id, team id, or the bucket's first day.")
    label = serializers.CharField()
    totals = TotalsSerializer()


class BreakdownSerializer(serializers.Serializer):
    by = serializers.CharField()
    rows = BreakdownRowSerializer(many=True)


class BreakdownView(_ReportBase):
    """Every daily measure grouped by person, team or time bucket (one or two queries)."""

    @extend_schema(
        parameters=[BreakdownQuerySerializer],
        responses={200: envelope("breakdown", BreakdownSerializer)},
        tags=["reports"],
    )
    def get(self, request: Request) -> Any:
        values = parse(request, BreakdownQuerySerializer)
        by = values["by"]
        groups = kpis.breakdown(values["scope"], values["period"], by=by, source=values["source"])
        labels = _labels(by, list(groups))
        rows = [
            {"key": str(key if key is not None else ""), "label": labels.get(key, ""), "totals": t}
            for key, t in groups.items()
        ]
        if values.get("export"):
            header = [_("Group"), *[str(MEASURES[n][1].label) for n in FACT_FIELDS]]
            table_rows = [
                [r["label"], *[getattr(r["totals"], n) for n in FACT_FIELDS]] for r in rows
            ]
            table = ReportTable(_filename(f"breakdown-{by}", values), header, table_rows, by)
            return export_table(table, values["export"])
        data = BreakdownSerializer({"by": by, "rows": rows}).data
        return Response(self.envelope(values, data))


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:
    if by == "person":
        return {u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in keys if k])}
    if by == "team":
        names = dict(Team.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name"))
        return {k: names.get(k, _("No team")) for k in keys}
    return {k: k.isoformat() if isinstance(k, date) else str(k) for k in keys}


class ScopeListSerializer(serializers.Serializer):
    scopes = ReportScopeSerializer(many=True)


class ScopesView(_ReportBase):
    """The scopes the caller may ask reports for (company, teams, lines, people)."""

    @extend_schema(responses={200: ScopeListSerializer}, tags=["reports"])
    def get(self, request: Request) -> Any:
        return Response(ScopeListSerializer({"scopes": kpis.scopes_for(request.user)}).data)


# --------------------------------------------------------------------------- urls
def _kpi_view(name: str) -> Any:
    query = QUERY_SERIALIZERS.get(name, ReportQuerySerializer)

    @extend_schema(
        operation_id=f"reports_{name.replace('-', '_')}",
        summary=f"{name.replace('-', ' ').capitalize()}",
        parameters=[query],
        responses={200: envelope(name, RESULT_SERIALIZERS[name])},
        tags=["reports"],
    )
    def get(self: KpiView, request: Request) -> Any:
        return KpiView.get(self, request)

    return type(
        f"{_camel(name)}View", (KpiView,), {"kpi": name, "get": get, "__doc__": KpiView.__doc__}
    )


def _records_view(name: str) -> Any:
    kpi = KPIS[name]
    query = RECORDS_QUERY_SERIALIZERS.get(name, RecordsQuerySerializer)
    part = OpenApiParameter(
        "part", str, enum=list(kpi.parts) or None, description="A piece of the number."
    )

    @extend_schema(
        operation_id=f"reports_{name.replace('-', '_')}_records",
        summary=f"{name.replace('-', ' ').capitalize()}: the records behind it",
        parameters=[query, part],
        responses={200: ReportRecordSerializer(many=True)},
        tags=["reports"],
    )
    def get(self: RecordsView, request: Request) -> Any:
        return RecordsView.get(self, request)

    return type(
        f"{_camel(name)}RecordsView",
        (RecordsView,),
        {"kpi": name, "get": get, "__doc__": RecordsView.__doc__},
    )


urlpatterns = [
    path(
        "reports/scopes/",
        extend_schema(responses={200: ScopeListSerializer}, tags=["reports"])(ScopesView).as_view(),
        name="api-reports-scopes",
    ),
    path(
        "reports/breakdown/",
        extend_schema(
            parameters=[BreakdownQuerySerializer],
            responses={200: envelope("breakdown", BreakdownSerializer)},
            tags=["reports"],
        )(BreakdownView).as_view(),
        name="api-reports-breakdown",
    ),
]
for _name, _kpi in KPIS.items():
    urlpatterns.append(
        path(f"reports/{_name}/", _kpi_view(_name).as_view(), name=f"api-reports-{_name}")
    )
    if _kpi.records is not None:
        urlpatterns.append(
            path(
                f"reports/{_name}/records/",
                _records_view(_name).as_view(),
                name=f"api-reports-{_name}-records",
            )
        )
