"""Records for the KPI tests, dated where the test needs them.

Each helper writes exactly the rows the product's services would (a deal with
its stage changes, a survey answer with its campaign and invitation), with the
moments given as local (Asia/Shanghai) wall-clock times, so a fixture reads
like the story it tells: "won on 31 January at 23:30".
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import User
from clients.models import (
    Client,
    Complaint,
    Contact,
    SurveyCampaign,
    SurveyInvitation,
    SurveyResponse,
    SurveyTemplate,
)
from pipeline.models import Activity, Contract, Deal, DealStageChange, Lead, Stage, Target
from pipeline.services.activities import client_refresh_last_visit

_seq = itertools.count(1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An aware moment at local wall-clock ``hour:minute`` on ``day``."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def stage(code: str) -> Stage:
    return Stage.objects.get(code=code)


def client(owner: User, *, account_manager: User | None = None, **fields: Any) -> Client:
    n = next(_seq)
    return Client.objects.create(
        name=f"KPI Client {n}", owner=owner, account_manager=account_manager, **fields
    )


def deal(
    owner: User,
    *,
    client_: Client | None = None,
    created: datetime,
    path: list[tuple[str, datetime]] = (),  # type: ignore[assignment]
    amount: Decimal | str = "100000",
    currency: str = "CNY",
    closed_on: date | None = None,
    probability: int | None = None,
    expected_close: date | None = None,
) -> Deal:
    """A deal created in first contact at ``created`` and moved along ``path`` (stage, when).

    A move to won or lost closes it on ``closed_on`` (default: the local day of the move).
    """
    client_ = client_ or client(owner)
    moves = [("first_contact", created), *path]
    final_code, final_at = moves[-1]
    final = stage(final_code)
    closes = final.kind != Stage.Kind.OPEN
    obj = Deal.objects.create(
        client=client_,
        owner=owner,
        title=f"KPI Deal {next(_seq)}",
        amount=Decimal(amount),
        currency=currency,
        stage=final,
        probability=final.probability if probability is None else probability,
        closed_on=(closed_on or timezone.localdate(final_at)) if closes else None,
        expected_close_date=expected_close,
        stage_changed_at=final_at,
        lost_reason="price" if final.kind == Stage.Kind.LOST else "",
    )
    Deal.objects.filter(pk=obj.pk).update(created_at=created)
    previous = None
    for code, moment in moves:
        to = stage(code)
        DealStageChange.objects.create(
            deal=obj,
            from_stage=previous,
            to_stage=to,
            changed_by=owner,
            changed_at=moment,
            amount=obj.amount,
            probability=to.probability,
        )
        previous = to
    obj.refresh_from_db()
    return obj


def activity(
    owner: User,
    *,
    when: datetime,
    type: str = "call",
    status: str = "done",
    client_: Client | None = None,
    lead: Lead | None = None,
) -> Activity:
    if client_ is None and lead is None:
        client_ = client(owner)
    made = Activity.objects.create(
        owner=owner, type=type, status=status, client=client_, lead=lead, start_at=when
    )
    if client_ is not None and type == "visit" and status == "done":
        # as every write of a visit through the services does
        client_refresh_last_visit(client_id=client_.pk)
    return made


def lead(owner: User, *, created: datetime, converted: datetime | None = None) -> Lead:
    obj = Lead.objects.create(
        name=f"KPI Lead {next(_seq)}",
        owner=owner,
        status="converted" if converted else "new",
        converted_at=converted,
    )
    Lead.objects.filter(pk=obj.pk).update(created_at=created)
    return obj


def complaint(
    owner: User,
    *,
    received: datetime,
    responded_after: timedelta | None = None,
    client_: Client | None = None,
) -> Complaint:
    client_ = client_ or client(owner)
    return Complaint.objects.create(
        client=client_,
        owner=owner,
        subject=f"KPI complaint {next(_seq)}",
        description="Late delivery",
        received_at=received,
        sla_due_at=received + timedelta(hours=24),
        first_response_at=received + responded_after if responded_after is not None else None,
        status="responded" if responded_after is not None else "open",
    )


def survey_response(
    client_: Client,
    *,
    submitted: datetime,
    nps: int | None = None,
    csat: Decimal | str | None = None,
) -> SurveyResponse:
    n = next(_seq)
    template = SurveyTemplate.objects.order_by("pk").first()
    campaign = SurveyCampaign.objects.create(template=template, name=f"KPI {n}", key=f"kpi:{n}")
    contact = Contact.objects.create(client=client_, name=f"KPI Contact {n}")
    invitation = SurveyInvitation.objects.create(
        campaign=campaign,
        client=client_,
        contact=contact,
        token=f"kpi-token-{n}",
        expires_at=submitted + timedelta(days=30),
        answered_at=submitted,
    )
    return SurveyResponse.objects.create(
        invitation=invitation,
        client=client_,
        contact=contact,
        submitted_at=submitted,
        nps_score=nps,
        csat_score=Decimal(csat) if csat is not None else None,
    )


def contract(
    owner: User,
    *,
    client_: Client | None = None,
    deal_: Deal | None = None,
    amount: Decimal | str = "500000",
    currency: str = "CNY",
    start: date,
    end: date,
    signed_on: date | None = None,
    status: str = "active",
    renews: Contract | None = None,
) -> Contract:
    client_ = client_ or (deal_.client if deal_ else client(owner))
    return Contract.objects.create(
        client=client_,
        deal=deal_,
        owner=owner,
        number=f"C-KPI-{next(_seq):05d}",
        amount=Decimal(amount),
        currency=currency,
        start_date=start,
        end_date=end,
        signed_on=signed_on,
        status=status,
        renews=renews,
    )


def target(
    *,
    period: str,
    start: date,
    revenue: Decimal | str = "0",
    user: User | None = None,
    team: Any = None,
    **rates: Any,
) -> Target:
    return Target.objects.create(
        period=period, period_start=start, revenue=Decimal(revenue), user=user, team=team, **rates
    )
