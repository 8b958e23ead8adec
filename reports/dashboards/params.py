"""Scope and period of a dashboard, read from the query string like the reports API."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.kpis import (
    Period,
    PeriodKind,
    Scope,
    ScopeKind,
    default_scope,
    resolve_scope,
    scopes_for,
    tree,
)
from reports.kpis.periods import MAX_CUSTOM_DAYS

if TYPE_CHECKING:
    from accounts.models import User


class DashboardForm(forms.Form):
    """The pickers at the top of every dashboard (same names as the API's parameters)."""

    scope = forms.ChoiceField(choices=ScopeKind.choices, required=False)
    id = forms.IntegerField(required=False, min_value=1)
    period = forms.ChoiceField(choices=PeriodKind.choices, required=False)
    date = forms.DateField(required=False)
    start = forms.DateField(required=False, label=_("From"))
    end = forms.DateField(required=False, label=_("To"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("scope")
        if kind in (ScopeKind.PERSON, ScopeKind.LINE, ScopeKind.TEAM) and not data.get("id"):
            raise forms.ValidationError(_("Say which person or team."))
        if data.get("period") == PeriodKind.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not (start and end):
                raise forms.ValidationError(_("A custom period needs a start and an end."))
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days > MAX_CUSTOM_DAYS:
                raise forms.ValidationError(_("Pick a period of at most five years."))
        return data


@dataclass
class DashboardParams:
    """Who is looking, at whose figures, over which days — and links that keep them."""

    viewer: User
    scope: Scope
    period: Period
    today: date
    errors: list[str] = field(default_factory=list)
    default_period: str = PeriodKind.MONTH

    @cached_property
    def query(self) -> dict[str, str]:
        """The query-string parameters that reproduce this scope and period."""
        values: dict[str, str] = {"scope": self.scope.kind}
        if self.scope.id is not None:
            values["id"] = str(self.scope.id)
        values["period"] = self.period.kind
        if self.period.kind == PeriodKind.CUSTOM:
            values["start"] = self.period.start.isoformat()
            values["end"] = self.period.last.isoformat()
        else:
            values["date"] = self.period.start.isoformat()
        return values

    def querystring(self, **extra: Any) -> str:
        values = {**self.query, **{k: str(v) for k, v in extra.items() if v is not None}}
        return urlencode(values)

    def drill(self, kpi: str, **extra: Any) -> str:
        """The page listing the records behind ``kpi`` for this scope and period."""
        urls = self.__dict__.setdefault("_records_urls", {})  # a page links each KPI many times
        if kpi not in urls:
            urls[kpi] = reverse("reports:records", args=[kpi])
        return f"{urls[kpi]}?{self.querystring(**extra)}"

    def _replace(self, **changes: Any) -> DashboardParams:
        other = replace(self, **changes)
        if "scopes" in self.__dict__:  # the picker's list is the viewer's, whatever the period
            other.__dict__["scopes"] = self.__dict__["scopes"]
        return other

    def with_period(self, period: Period) -> DashboardParams:
        return self._replace(period=period)

    def with_scope(self, scope: Scope) -> DashboardParams:
        return self._replace(scope=scope)

    @cached_property
    def scopes(self) -> list[Scope]:
        """What the scope picker offers (read once per page: ``kpis.scopes_for``)."""
        return scopes_for(self.viewer)

    def team_names(self) -> dict[int, str]:
        """Names of the teams the viewer may pick, off the scope picker's list."""
        return {s.id: s.label for s in self.scopes if s.kind == ScopeKind.TEAM and s.id}

    @property
    def scope_value(self) -> str:
        """The scope as the picker's option value (``line:12``, ``company``)."""
        return self.scope.kind if self.scope.id is None else f"{self.scope.kind}:{self.scope.id}"

    def step(self, direction: int) -> str:
        """The query string of the previous (-1) or next (+1) period of the same kind."""
        if self.period.kind == PeriodKind.CUSTOM:
            length = self.period.end - self.period.start
            start = self.period.start + direction * length
            return self.with_period(Period.between(start, start + length)).querystring()
        day = self.period.previous().start if direction < 0 else self.period.end
        return self.with_period(Period.containing(self.period.kind, day)).querystring()

    @property
    def is_current(self) -> bool:
        """Whether the period holds today (then "today" widgets make sense)."""
        return self.period.start <= self.today < self.period.end


def _picked(viewer: User, scopes: list[Scope], kind: str, pk: int | None) -> Scope:
    """The scope asked for: off the picker's list when it is there (it holds exactly
    what the viewer may pick, so no further check is needed), else ``resolve_scope``
    (people who have left, or a 404/403)."""
    for scope in scopes:
        if scope.kind == kind and scope.id == pk:
            if scope.uses_tree:
                tree.ensure_fresh()
            return scope
    return resolve_scope(viewer, kind, pk)


def parse_params(
    request: HttpRequest, *, default_period: str = PeriodKind.MONTH, picker: bool = False
) -> DashboardParams:
    """The dashboard's scope and period; bad values fall back to the defaults with a message.

    A person or team outside the viewer's part of the organisation answers 404
    (``resolve_scope``), the company's figures 403 for anyone but the director.
    ``picker``: the page shows the scope picker, whose list (read here, once)
    also answers whether the viewer may ask for the scope.
    """
    viewer = request.user
    today = timezone.localdate()
    data_in = request.GET.copy()
    kind, _sep, pk = data_in.get("scope", "").partition(":")
    if pk:  # the scope picker sends "line:12"; links send scope=line&id=12
        data_in["scope"], data_in["id"] = kind, pk
    form = DashboardForm(data_in)
    errors: list[str] = []
    data: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
    else:
        errors = [str(e) for errs in form.errors.values() for e in errs]
    kind = data.get("scope")
    scopes = scopes_for(viewer) if picker else None
    if not kind:
        scope = default_scope(viewer)
    elif scopes is not None:
        scope = _picked(viewer, scopes, kind, data.get("id"))
    else:
        scope = resolve_scope(viewer, kind, data.get("id"))
    period_kind = data.get("period") or default_period
    if period_kind == PeriodKind.CUSTOM:
        period = Period.custom(data["start"], data["end"])
    else:
        period = Period.containing(period_kind, data.get("date") or today)
    params = DashboardParams(viewer, scope, period, today, errors, default_period)
    if scopes is not None:
        params.__dict__["scopes"] = scopes
    return params
