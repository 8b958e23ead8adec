"""The demo company's clients and pipeline history (``seed_demo``, small size).

Seeded once for the module at a fixed moment (the data is relative to "now"),
inside a transaction rolled back at the end; each test runs in a savepoint.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Sum

from accounts.models import Role, User
from clients.models import (
    CADENCE_DAYS,
    Cadence,
    Client,
    ClientSource,
    ClientStatus,
    Contact,
    DecisionRole,
    Segment,
)
from clients.validators import validate_registration_number
from pipeline.models import (
    Activity,
    ActivityType,
    Contract,
    ContractStatus,
    Deal,
    DealStageChange,
    Event,
    FollowUpReason,
    Lead,
    LeadSource,
    LeadStatus,
    Milestone,
    Objection,
    Product,
    Project,
    Quote,
    QuoteApproval,
    QuoteLine,
    Stage,
    Target,
)
from salesorg.lib.normalize import normalize_name
from tests.reference_data import ensure as ensure_reference_data

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 15, 10, 30, tzinfo=TZ)  # a Monday morning
TODAY = NOW.date()
SEED = "7"

DEMO_MODELS = (
    User, Client, Contact, Lead, Deal, DealStageChange, Activity, Objection, Quote, QuoteLine,
    QuoteApproval, Contract, Project, Milestone, Target, Event,
)  # fmt: skip


def _seed() -> None:
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", "--force", "--seed", SEED, stdout=StringIO())


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in DEMO_MODELS}


def _fingerprint() -> dict[str, object]:
    """What the demo holds, without database ids (they differ between runs)."""
    return {
        "counts": _counts(),
        "clients": list(
            Client.objects.order_by("external_id").values_list(
                "external_id", "name", "owner__username", "status", "cadence", "created_at",
                "spend_12m", "next_visit_due",
            )
        ),
        "deals": list(
            Deal.objects.order_by("client__external_id", "created_at", "title").values_list(
                "client__external_id", "title", "amount", "stage__code", "created_at", "closed_on"
            )
        ),
        "activities": list(
            Activity.objects.values_list("type", "status").annotate(
                n=Count("id"), minutes=Sum("duration_minutes")
            ).order_by("type", "status")
        ),
        "leads": list(
            Lead.objects.order_by("owner__username", "created_at", "name").values_list(
                "name", "company", "source", "status", "created_at"
            )
        ),
    }  # fmt: skip


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_reference_data()  # runs before the per-test check does
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            _seed()
            yield _fingerprint()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


pytestmark = pytest.mark.usefixtures("db")


# ------------------------------------------------------------------ idempotent, reproducible
def test_a_second_run_adds_nothing(demo):
    _seed()
    assert _counts() == demo["counts"]


def test_the_same_seed_gives_the_same_company(demo):
    models = (Client, Lead, Event, Target, Product, Client.history.model, Contact.history.model)
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check what is pending, then wipe
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    assert Client.objects.count() == Deal.objects.count() == Activity.objects.count() == 0
    _seed()
    assert _fingerprint() == demo


def test_another_seed_gives_other_names():
    from clients.seed import company_name

    class Dice:  # only the name parts chosen by index matter here
        def random(self) -> float:
            return 0.5

        def choice(self, options):
            return options[0]

    city = ("Shanghai", "上海", "Shanghai", "021", "310115")
    seven = {company_name(i, False, Dice(), city, seed=7)["name"] for i in range(50)}
    eight = {company_name(i, False, Dice(), city, seed=8)["name"] for i in range(50)}
    assert len(seven) == 50  # unique
    assert seven != eight


# ------------------------------------------------------------------ coverage
def test_every_choice_appears(demo):
    def values(qs, field):
        return set(qs.values_list(field, flat=True).distinct())

    assert values(Client.objects, "source") == set(ClientSource.values)
    assert values(Client.objects, "status") == set(ClientStatus.values)
    assert values(Client.objects, "cadence") == set(Cadence.values)
    assert values(Client.objects, "segment") == set(Segment.values)
    assert values(Client.objects.exclude(referred_by=None), "source") == {ClientSource.REFERRAL}
    assert values(Contact.objects.exclude(decision_role=""), "decision_role") == set(
        DecisionRole.values
    )
    assert values(Lead.objects, "source") == set(LeadSource.values)
    assert values(Lead.objects, "status") == set(LeadStatus.values)
    assert values(Deal.objects, "stage__code") == set(Stage.objects.values_list("code", flat=True))
    assert values(Activity.objects, "type") == set(ActivityType.values)
    assert values(Activity.objects, "status") == set(Activity.Status.values)
    assert values(Activity.objects.exclude(follow_up_reason=""), "follow_up_reason") == set(
        FollowUpReason.values
    )
    assert values(Quote.objects, "status") == set(Quote.Status.values)
    assert values(QuoteApproval.objects, "decision") == set(QuoteApproval.Decision.values)
    assert values(Contract.objects, "status") == set(ContractStatus.values)
    assert values(Project.objects, "status") == set(Project.Status.values)
    assert values(Milestone.objects, "status") == set(Milestone.Status.values)
    assert values(Event.objects, "kind") == set(Event.Kind.values)
    assert Target.objects.filter(user=None, team=None).exists()
    assert values(Target.objects, "period") == set(Target.Period.values)
    assert Objection.objects.exists()
    assert Activity.objects.exclude(spin_situation="").filter(type=ActivityType.VISIT).exists()


def test_history_covers_eighteen_months(demo):
    span = Activity.objects.filter(status=Activity.Status.DONE).aggregate(
        first=Min("start_at"), last=Max("start_at")
    )
    assert span["first"] <= NOW - timedelta(days=540)
    assert NOW - timedelta(days=1) <= span["last"] <= NOW
    assert Activity.objects.filter(status=Activity.Status.PLANNED, start_at__lte=NOW).count() == 0
    assert Activity.objects.filter(status=Activity.Status.PLANNED).exists()
    assert not Deal.objects.filter(created_at__gt=NOW).exists()
    assert not Deal.objects.filter(closed_on__gt=TODAY).exists()


def test_personas_have_their_own_work(demo):
    rep1, am1 = User.objects.get(username="rep1"), User.objects.get(username="am1")
    support1 = User.objects.get(username="support1")
    assert Client.objects.filter(owner=rep1).count() >= 10
    assert Deal.objects.filter(owner=rep1).exists()
    assert Activity.objects.filter(owner=rep1, type=ActivityType.CALL).count() > 1000
    assert Client.objects.filter(account_manager=am1).exists()
    assert Client.objects.visible_to(support1).count() > Client.objects.filter(owner=rep1).count()
    assert Client.objects.visible_to(rep1).filter(owner__username="rep2").exists()  # shared


# ------------------------------------------------------------------ records support fixes
def test_clients_are_clean_except_the_planted_problems(demo):
    demo_clients = Client.objects.filter(external_id__startswith="DEMO-")
    for number in demo_clients.exclude(registration_number="").values_list(
        "registration_number", flat=True
    ):
        validate_registration_number(number)
    assert demo_clients.exclude(registration_number="").count() > demo_clients.count() / 2
    duplicates = demo_clients.filter(external_id__startswith="DEMO-D")
    assert duplicates.exists()
    names = Counter(normalize_name(n) for n in demo_clients.values_list("name", flat=True))
    repeated = {n for n, k in names.items() if k > 1}
    assert repeated == {normalize_name(c.name) for c in duplicates}
    for dup in duplicates:
        original = Client.objects.get(external_id=dup.external_id.replace("DEMO-D", "DEMO-"))
        assert dup.name != original.name and dup.phone_normalized == original.phone_normalized
    assert demo_clients.filter(phone="").exists()
    assert demo_clients.filter(email="").exists()
    assert demo_clients.filter(industry="").exists()
    assert demo_clients.filter(contacts=None).exists()
    with_contacts = demo_clients.annotate(
        n=Count("contacts"), primary=Count("contacts", filter=Q(contacts__is_primary=True))
    ).filter(n__gt=0)
    assert set(with_contacts.values_list("primary", flat=True)) == {1}
    assert Client.history.filter(history_type="+").count() == Client.objects.count()


# ------------------------------------------------------------------ derived fields
def test_derived_client_fields_match_their_definitions(demo):
    year_ago = TODAY.replace(year=TODAY.year - 1)
    threshold = Decimal(settings.SALESORG_KEY_ACCOUNT_THRESHOLD)
    spend = dict(
        Deal.objects.filter(
            stage__kind=Stage.Kind.WON, currency="CNY", closed_on__gt=year_ago,
            closed_on__lte=TODAY,
        )
        .values_list("client_id")
        .annotate(total=Sum("amount"))
    )  # fmt: skip
    visits = dict(
        Activity.objects.filter(type=ActivityType.VISIT, status=Activity.Status.DONE)
        .values_list("client_id")
        .annotate(last=Max("start_at"))
    )
    checked = 0
    for client in Client.objects.all():
        assert client.spend_12m == spend.get(client.pk, Decimal("0")), client
        assert client.is_key_account == (client.spend_12m > threshold), client
        assert client.last_visit_at == visits.get(client.pk)
        days = CADENCE_DAYS[client.cadence]
        expected = (
            client.last_visit_at.astimezone(TZ).date() + timedelta(days=days)
            if days and client.last_visit_at
            else None
        )
        assert client.next_visit_due == expected, client
        checked += 1
    assert checked > 300
    keys = Client.objects.filter(is_key_account=True)
    assert keys.filter(account_manager__isnull=False).exists()
    assert keys.filter(account_manager__isnull=True).exists()  # for the manager's list
    assert Client.objects.filter(next_visit_due__lt=TODAY).exists()  # overdue visits
    last = dict(
        Activity.objects.filter(status=Activity.Status.DONE, deal__isnull=False)
        .values_list("deal_id")
        .annotate(last=Max("start_at"))
    )
    for deal_id, last_activity_at in Deal.objects.values_list("id", "last_activity_at"):
        assert last_activity_at == last.get(deal_id)


def test_clients_carry_the_rfm_segments_the_nightly_job_would_store(demo):
    """A new demo shows segments from the first sign-in (the job runs at 02:00),
    and they are the job's: the live definition of the same day agrees."""
    from clients.rfm import rfm_segment
    from reports.kpis import rfm_scores_sql

    scored = {
        c.pk: (c.rfm_recency, c.rfm_frequency, c.rfm_monetary, c.rfm_segment)
        for c in Client.objects.filter(rfm_scored_at__isnull=False)
    }
    sql, params = rfm_scores_sql(TODAY)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT client_id, recency, frequency, monetary FROM ({sql}) s", params)
        live = {pk: (r, f, m, rfm_segment(r, f, m)) for pk, r, f, m in cursor.fetchall()}
    assert len(live) > 100
    assert scored == live
    assert len({v[3] for v in scored.values()}) >= 4  # several segments, not one
    stamped = Client.objects.filter(rfm_scored_at__isnull=False).values_list("rfm_scored_at")
    before = set(stamped)
    _seed()
    assert set(stamped) == before  # a re-run leaves the nightly job's scores alone


def test_the_portable_refresh_agrees_with_the_postgresql_one(demo):
    """``make run`` on SQLite derives the same fields through the ORM."""
    from pipeline.seed import refresh_derived_fields_portable

    fields = ("id", "spend_12m", "is_key_account", "last_visit_at", "next_visit_due")
    expected = list(Client.objects.order_by("pk").values_list(*fields))
    deals = list(Deal.objects.order_by("pk").values_list("id", "last_activity_at"))
    Client.objects.update(spend_12m=1, is_key_account=True, last_visit_at=NOW, next_visit_due=TODAY)
    Deal.objects.update(last_activity_at=NOW)
    refresh_derived_fields_portable(TODAY)
    assert list(Client.objects.order_by("pk").values_list(*fields)) == expected
    assert list(Deal.objects.order_by("pk").values_list("id", "last_activity_at")) == deals


# ------------------------------------------------------------------ stage history
def test_every_deal_has_its_complete_stage_history(demo):
    changes = defaultdict(list)
    for change in DealStageChange.objects.order_by("changed_at", "pk").values(
        "deal_id", "from_stage_id", "to_stage_id", "changed_at"
    ):
        changes[change["deal_id"]].append(change)
    stages = {s.pk: s for s in Stage.objects.all()}
    deals = Deal.objects.all()
    assert deals.count() > 400
    for deal in deals:
        history = changes[deal.pk]
        assert history, deal
        assert history[0]["from_stage_id"] is None
        assert history[0]["changed_at"] == deal.created_at
        for before, after in pairwise(history):
            assert after["from_stage_id"] == before["to_stage_id"]
            assert after["changed_at"] > before["changed_at"]
        assert history[-1]["to_stage_id"] == deal.stage_id
        assert history[-1]["changed_at"] == deal.stage_changed_at
        stage = stages[deal.stage_id]
        if stage.is_closed:
            assert deal.closed_on == history[-1]["changed_at"].astimezone(TZ).date()
        else:
            assert deal.closed_on is None
        if stage.kind == Stage.Kind.LOST:
            assert deal.lost_reason
        if stage.kind == Stage.Kind.WON:
            assert deal.amount > 0
    won_without_contract = Deal.objects.filter(stage__kind=Stage.Kind.WON, contracts=None)
    assert not won_without_contract.exists()


def test_every_stage_change_knows_when_the_deal_moved_on(demo):
    """The loader writes stage changes in bulk; the seed derives ``moved_on_at`` after."""
    from pipeline.tests.test_stage_moved_on import expected_moved_on, stored_moved_on

    expected = expected_moved_on()
    assert len(expected) > 1000
    assert stored_moved_on() == expected
    assert any(expected.values()) and not all(expected.values())


def test_quote_totals_add_up(demo):
    for quote in Quote.objects.prefetch_related("lines")[:200]:
        gross = sum(
            (line.quantity * line.unit_price).quantize(Decimal("0.01"))
            for line in quote.lines.all()
        )
        assert quote.subtotal == gross
        assert quote.total == quote.subtotal - quote.discount_total + quote.tax_amount
    won = Deal.objects.filter(stage__kind=Stage.Kind.WON, quotes__status=Quote.Status.ACCEPTED)
    for deal in won.distinct()[:100]:
        accepted = deal.quotes.get(status=Quote.Status.ACCEPTED)
        assert deal.amount == accepted.subtotal - accepted.discount_total


# ------------------------------------------------------------------ SPEC figures
def _working_days(first: date, last: date) -> int:
    return sum(
        1 for k in range((last - first).days + 1) if (first + timedelta(days=k)).weekday() < 5
    )


def test_rates_are_near_the_spec_figures(demo):
    won = Stage.objects.get(code="won")
    reached_negotiation = DealStageChange.objects.filter(to_stage__code="negotiation").values(
        "deal_id"
    )
    closed = Deal.objects.filter(pk__in=reached_negotiation, stage__kind__in=["won", "lost"])
    win_rate = closed.filter(stage=won).count() / closed.count()
    assert 0.55 <= win_rate <= 0.75, win_rate

    average_contract = statistics.mean(Contract.objects.values_list("amount", flat=True))
    assert 400_000 <= average_contract <= 600_000, average_contract

    cycles = []
    entered = dict(
        DealStageChange.objects.filter(to_stage__code="negotiation")
        .values_list("deal_id")
        .annotate(first=Min("changed_at"))
    )
    for deal_id, signed_on in (
        Contract.objects.exclude(signed_on=None)
        .exclude(deal=None)
        .values_list("deal_id", "signed_on")
    ):
        if deal_id in entered:
            cycles.append((signed_on - entered[deal_id].astimezone(TZ).date()).days)
    assert 24 <= statistics.mean(cycles) <= 36, statistics.mean(cycles)

    ended = Contract.objects.filter(
        end_date__lt=TODAY, end_date__gte=TODAY - timedelta(days=540),
        status__in=[ContractStatus.RENEWED, ContractStatus.EXPIRED],
    )  # fmt: skip
    renewal_rate = ended.filter(status=ContractStatus.RENEWED).count() / ended.count()
    assert 0.75 <= renewal_rate <= 0.95, renewal_rate
    assert Contract.objects.exclude(renews=None).count() >= ended.filter(status="renewed").count()

    new = Client.objects.filter(created_at__gte=NOW - timedelta(days=548))
    visited = new.filter(
        activities__type=ActivityType.VISIT, activities__status=Activity.Status.DONE
    ).distinct()
    converted = visited.filter(deals__stage=won).distinct()
    conversion = converted.count() / visited.count()
    assert 0.2 <= conversion <= 0.4, conversion

    visits = Activity.objects.filter(type=ActivityType.VISIT, status=Activity.Status.DONE)
    assert 43 <= statistics.mean(visits.values_list("duration_minutes", flat=True)) <= 47

    first, last = TODAY - timedelta(days=364), TODAY - timedelta(days=1)
    past = Activity.objects.filter(start_at__date__gte=first, start_at__date__lte=last)
    days = _working_days(first, last)
    for role, (calls_low, calls_high), (visits_low, visits_high) in (
        (Role.REP, (20, 30), (10, 15)),
        (Role.ACCOUNT_MANAGER, (0, 10), (5, 8.5)),
    ):
        people = User.objects.filter(role=role)
        calls = past.filter(owner__in=people, type=ActivityType.CALL).count()
        visit_count = past.filter(owner__in=people, type=ActivityType.VISIT).count()
        per_day = calls / days / people.count()
        per_week = visit_count / (days / 5) / people.count()
        assert calls_low <= per_day <= calls_high, (role, per_day)
        assert visits_low <= per_week <= visits_high, (role, per_week)


def test_targets_grow_fifteen_percent_a_quarter(demo):
    rep1 = User.objects.get(username="rep1")
    quarters = list(
        Target.objects.filter(user=rep1, period=Target.Period.QUARTER)
        .order_by("period_start")
        .values_list("revenue", flat=True)
    )
    assert len(quarters) >= 7
    for before, after in pairwise(quarters):
        assert abs(after / before - Decimal("1.15")) < Decimal("0.01")
    rep_target = Target.objects.get(
        user=rep1, period=Target.Period.QUARTER, period_start=date(2026, 4, 1)
    )
    months = Target.objects.filter(
        user=rep1,
        period=Target.Period.MONTH,
        period_start__in=[date(2026, m, 1) for m in (4, 5, 6)],
    ).aggregate(total=Sum("revenue"))["total"]
    assert months == rep_target.revenue
    team = rep1.team
    members = User.objects.filter(team=team, role__in=[Role.REP, Role.ACCOUNT_MANAGER])
    team_target = Target.objects.get(
        team=team, period=Target.Period.QUARTER, period_start=date(2026, 4, 1)
    )
    assert (
        team_target.revenue
        == Target.objects.filter(
            user__in=members, period=Target.Period.QUARTER, period_start=date(2026, 4, 1)
        ).aggregate(total=Sum("revenue"))["total"]
    )
    assert rep_target.calls_per_day in range(20, 31)
    assert rep_target.visits_per_week in range(10, 16)


def test_every_stage_change_carries_its_deals_owner(demo):
    """The loader writes the owner's copy itself (bulk rows skip ``DealStageChange.save``)."""
    from django.db.models import F

    from pipeline.models import DealStageChange

    assert DealStageChange.objects.count() > 0
    assert not DealStageChange.objects.exclude(owner_id=F("deal__owner_id")).exists()
