"""Eighteen months of pipeline history for the demo company (``seed_demo``).

What it writes, and the SPEC figures it aims at (SPEC sections 3, 4 and 7):

- per demo client, a history that matches its stored status and tier: the lead
  it was converted from, deals moving through the stages with every stage
  change recorded (creation and each move), quotes with lines and discount
  approvals, contracts and their renewals (about 85% renewed), delivery
  projects with milestones and tasks, visits at the client's cadence, calls,
  demos and meetings with SPIN notes and objections. About 30% of visited
  prospects become customers; about 65% of deals that reach negotiation are
  won, after about 30 days in negotiation; contracts average about ¥500,000;
- per rep and AM, the day-to-day work topped up to the SPEC rates: 20–30 calls
  a working day and 10–15 visits a week for reps, 5–8 visits a week for AMs,
  new leads every week from every source (trade shows, campaigns, website…);
- revenue and activity targets per company, team and person, per month,
  quarter and year, growing about 15% a quarter;
- the derived fields, in SQL: clients' 12-month spend, key-account flag, last
  visit and next visit due, and deals' last activity.

Idempotent without bookkeeping: a demo client's history is written only when
the client has none yet (no deal, activity or converted lead); the day-to-day
work is topped up to deterministic per-person, per-day targets, so a second
run finds nothing missing; targets, products, events and stages have natural
keys. Everything is generated from ``(--seed, natural key)``, so the same seed
gives the same data. Rows go through ``salesorg.lib.bulkload`` (PostgreSQL COPY
in chunks), which is what makes ``--size large`` (10,000 clients, 100,000+ deals,
1,000,000+ activities) take minutes.
"""

from __future__ import annotations

import bisect
import math
import random
import time as clock
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Length, TruncDate
from django.utils import timezone

from accounts.models import Role, Team, User
from clients import seed as client_seed
from clients.models import CADENCE_DAYS, Client, ClientStatus, Contact
from pipeline import demo_text as T
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
    Task,
)
from salesorg.lib.bulkload import BulkLoader, deferred_foreign_key_check, indexes_built_after
from salesorg.lib.normalize import normalize_email, normalize_name, normalize_phone
from salesorg.lib.seeding import SeedContext

FEN = Decimal("0.01")
HUNDRED = Decimal("100")

#: The default stages (as in migration 0002), recreated if a test flushed them.
DEFAULT_STAGES = [
    ("first_contact", "First contact", "初次接触", 10, 10, "open"),
    ("needs_analysis", "Needs analysis", "需求分析", 20, 25, "open"),
    ("proposal", "Proposal / quote", "方案报价", 30, 50, "open"),
    ("negotiation", "Negotiation", "谈判", 40, 75, "open"),
    ("won", "Won", "赢单", 90, 100, "won"),
    ("lost", "Lost", "输单", 99, 0, "lost"),
]
OPEN_PATH = ["first_contact", "needs_analysis", "proposal", "negotiation"]

#: Extra opportunities per client for ``--size large`` (100,000 deals on 10,000 clients).
INTENSITY = {"small": 1.0, "large": 7.3}
#: Day-to-day rates (SPEC sections 3 and 4): (low, high).
CALLS_PER_DAY = {Role.REP: (20, 30), Role.ACCOUNT_MANAGER: (4, 8)}
VISITS_PER_WEEK = {Role.REP: (10, 15), Role.ACCOUNT_MANAGER: (5, 8)}
LEADS_PER_WEEK = {Role.REP: (3, 7), Role.ACCOUNT_MANAGER: (0, 2)}
#: New-business deals that reach negotiation and close: share won.
NEGOTIATION_WIN = 0.55
RENEWAL_RATE = 0.85
QUARTERLY_GROWTH = Decimal("1.15")


def to_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def a_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _weighted(rng: random.Random, options: list[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in options)
    pick = rng.random() * total
    for value, weight in options:
        pick -= weight
        if pick < 0:
            return value
    return options[-1][0]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# ------------------------------------------------------------------ columns
ACTIVITY_COLUMNS = [
    "id",
    "type",
    "status",
    "client",
    "lead",
    "deal",
    "contact",
    "owner",
    "subject",
    "start_at",
    "duration_minutes",
    "outcome",
    "next_step",
    "follow_up_reason",
    "spin_situation",
    "spin_problem",
    "spin_implication",
    "spin_need_payoff",
    "created_at",
    "updated_at",
    "version",
]
DEAL_COLUMNS = [
    "id",
    "client",
    "owner",
    "title",
    "amount",
    "currency",
    "stage",
    "probability",
    "expected_close_date",
    "closed_on",
    "next_step",
    "lost_reason",
    "competitor",
    "stage_changed_at",
    "created_at",
    "updated_at",
    "version",
]
CHANGE_COLUMNS = [
    "deal",
    "from_stage",
    "to_stage",
    "changed_by",
    "changed_at",
    "amount",
    "probability",
    "owner",
]
QUOTE_COLUMNS = [
    "id",
    "deal",
    "number",
    "revision",
    "status",
    "currency",
    "tax_rate",
    "valid_until",
    "notes",
    "subtotal",
    "discount_total",
    "tax_amount",
    "total",
    "max_discount_percent",
    "approval",
    "created_by",
    "created_at",
    "updated_at",
    "sent_at",
    "version",
]
LINE_COLUMNS = [
    "quote",
    "product",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "position",
]
APPROVAL_COLUMNS = [
    "quote",
    "requested_by",
    "requested_at",
    "approver",
    "discount_percent",
    "decision",
    "comment",
    "decided_at",
]
CONTRACT_COLUMNS = [
    "id",
    "client",
    "deal",
    "owner",
    "number",
    "title",
    "amount",
    "currency",
    "start_date",
    "end_date",
    "payment_terms",
    "status",
    "signed_on",
    "renews",
    "created_at",
    "updated_at",
    "version",
]
PROJECT_COLUMNS = [
    "id",
    "client",
    "deal",
    "contract",
    "owner",
    "name",
    "goals",
    "status",
    "start_date",
    "due_date",
    "completed_on",
    "created_at",
    "updated_at",
    "version",
]
MILESTONE_COLUMNS = [
    "id",
    "project",
    "name",
    "owner",
    "due_date",
    "status",
    "completed_on",
    "position",
]
TASK_COLUMNS = ["project", "milestone", "title", "owner", "due_date", "done", "done_at"]
LEAD_COLUMNS = [
    "id",
    "name",
    "company",
    "company_normalized",
    "title",
    "phone",
    "phone_normalized",
    "email",
    "wechat_id",
    "source",
    "campaign",
    "event",
    "owner",
    "status",
    "disqualified_reason",
    "notes",
    "converted_client",
    "converted_contact",
    "converted_deal",
    "converted_at",
    "converted_by",
    "created_at",
    "updated_at",
    "version",
]
OBJECTION_COLUMNS = ["activity", "objection", "confirmed_understanding", "response", "resolved"]


# ------------------------------------------------------------------ the world
@dataclass(frozen=True)
class Person:
    id: int
    username: str
    role: str
    approver_id: int | None  # nearest manager (or the director) above


@dataclass(frozen=True)
class ProductInfo:
    id: int
    code: str
    name: str
    price: Decimal
    kind: str


@dataclass
class ClientRow:
    id: int
    external_id: str
    owner_id: int
    account_manager_id: int | None
    status: str
    segment: str
    cadence: str
    created_at: datetime
    name: str
    source: str
    email: str
    contacts: list[int] = field(default_factory=list)


@dataclass
class DealOut:
    """What the rest of a client's history needs to know about a written deal."""

    id: int
    owner_id: int
    outcome: str  # won / lost / open
    created: datetime
    closed: datetime | None
    amount: Decimal
    has_main_product: bool


class Numbering:
    """``<letter>-YYYYMM-NNNN`` document numbers, continuing what the database holds
    (the same format as the quote and contract services)."""

    def __init__(self, model: type, letter: str) -> None:
        self.model = model
        self.letter = letter
        self.last: dict[str, int] = {}

    def next(self, day: date) -> str:
        prefix = f"{self.letter}-{day:%Y%m}-"
        if prefix not in self.last:
            last = (
                self.model._base_manager.filter(number__startswith=prefix)
                .order_by(Length("number").desc(), "-number")
                .values_list("number", flat=True)
                .first()
            )
            try:
                self.last[prefix] = int(last[len(prefix) :]) if last else 0
            except ValueError:
                self.last[prefix] = self.model._base_manager.filter(
                    number__startswith=prefix
                ).count()
        self.last[prefix] += 1
        return f"{prefix}{self.last[prefix]:04d}"


class World:
    """Shared state while seeding: time, reference data, writers."""

    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self.seed = ctx.seed
        self.now = ctx.now.replace(microsecond=0)
        self.tz = timezone.get_current_timezone()
        self.today = timezone.localdate(self.now)
        self.start = client_seed.window_start(self.now)
        self.start_day = timezone.localdate(self.start)
        self.intensity = INTENSITY.get(ctx.size, 1.0)
        self.threshold = Decimal(getattr(settings, "SALESORG_DISCOUNT_APPROVAL_THRESHOLD", 10))
        self.stages = _ensure_stages()
        self.stage_ids = {code: stage.pk for code, stage in self.stages.items()}
        self.products = _ensure_products()
        self.main_products = [p for p in self.products if p.kind == "main"]
        self.addons = [p for p in self.products if p.kind == "addon"]
        self.services = {p.code: p for p in self.products if p.kind == "service"}
        self.people = _people(ctx)
        self.events = _ensure_events(self)
        self.quote_numbers = Numbering(Quote, "Q")
        self.contract_numbers = Numbering(Contract, "C")

        loader = self.loader = BulkLoader(chunk_size=10_000)
        self.w_activity = loader.table("activities", Activity, ACTIVITY_COLUMNS)
        self.w_objection = loader.table("objections", Objection, OBJECTION_COLUMNS)
        self.w_demo = loader.table(
            "demo_products",
            Activity.products_demonstrated.through,
            ["activity", "product"],
        )
        self.w_deal = loader.table("deals", Deal, DEAL_COLUMNS)
        self.w_deal_products = loader.table(
            "deal_products", Deal.products.through, ["deal", "product"]
        )
        self.w_change = loader.table("stage_changes", DealStageChange, CHANGE_COLUMNS)
        self.w_quote = loader.table("quotes", Quote, QUOTE_COLUMNS)
        self.w_line = loader.table("quote_lines", QuoteLine, LINE_COLUMNS)
        self.w_approval = loader.table("approvals", QuoteApproval, APPROVAL_COLUMNS)
        self.w_contract = loader.table("contracts", Contract, CONTRACT_COLUMNS)
        self.w_project = loader.table("projects", Project, PROJECT_COLUMNS)
        self.w_milestone = loader.table("milestones", Milestone, MILESTONE_COLUMNS)
        self.w_task = loader.table("tasks", Task, TASK_COLUMNS)
        self.w_lead = loader.table("leads", Lead, LEAD_COLUMNS)
        self._id_pools: dict[type, list[int]] = defaultdict(list)

    # ---------------------------------------------------------------- ids
    def new_id(self, model: type) -> int:
        pool = self._id_pools[model]
        if not pool:
            pool.extend(reversed(self.loader.ids.take(model, 2000)))
        return pool.pop()

    # ---------------------------------------------------------------- time
    def moment(self, day: date, minute: int) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz) + timedelta(minutes=minute)

    def work_moment(self, rng: random.Random, day: date, first: int = 9 * 60) -> datetime:
        return self.moment(day, rng.randint(first, 17 * 60 + 30))

    def snap(self, t: datetime, rng: random.Random) -> datetime:
        """The nearest working time at or after ``t`` (Mon–Fri, 9:00–17:30)."""
        local = timezone.localtime(t, self.tz)
        day = local.date()
        minute = local.hour * 60 + local.minute
        if day.weekday() >= 5 or minute > 17 * 60 + 30:
            day = next_workday(day + timedelta(days=1))
            return self.work_moment(rng, day)
        if minute < 9 * 60:
            return self.work_moment(rng, day)
        return t.replace(second=0, microsecond=0)

    def local_day(self, t: datetime) -> date:
        return timezone.localtime(t, self.tz).date()

    # ---------------------------------------------------------------- rows
    def activity(
        self,
        rng: random.Random,
        *,
        type: str,
        at: datetime,
        owner_id: int,
        client_id: int | None = None,
        lead_id: int | None = None,
        deal_id: int | None = None,
        contact_id: int | None = None,
        subject: str = "",
        outcome: str = "",
        next_step: str = "",
        follow_up: str = "",
        spin: tuple[str, str, str, str] | None = None,
        objection: tuple[str, str, str] | None = None,
        products: tuple[int, ...] = (),
        duration: int | None = None,
        planned_horizon: int = 14,
    ) -> int | None:
        """Write one activity; future ones are planned (only the next two weeks)."""
        if at > self.now + timedelta(days=planned_horizon):
            return None
        if at > self.now:
            status = Activity.Status.PLANNED
            outcome = ""
            spin = objection = None
        elif type in (ActivityType.VISIT, ActivityType.MEETING) and rng.random() < 0.03:
            status = Activity.Status.CANCELLED
            outcome, spin, objection = "Cancelled by the client; to be rescheduled.", None, None
        else:
            status = Activity.Status.DONE
        if duration is None:
            duration = _duration(rng, type)
        pk = self.new_id(Activity)
        s = spin or ("", "", "", "")
        created = min(at, self.now) if status != Activity.Status.PLANNED else self.now
        self.w_activity.add(
            (
                pk,
                type,
                status,
                client_id,
                lead_id,
                deal_id,
                contact_id,
                owner_id,
                subject,
                at,
                duration,
                outcome,
                next_step,
                follow_up,
                s[0],
                s[1],
                s[2],
                s[3],
                created,
                created,
                1,
            )
        )
        if objection is not None:
            self.w_objection.add((pk, *objection, rng.random() < 0.7))
        for product_id in products:
            self.w_demo.add((pk, product_id))
        return pk


def next_workday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def workdays(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def _duration(rng: random.Random, kind: str) -> int:
    if kind == ActivityType.VISIT:
        return _weighted(rng, [(45, 70), (30, 15), (60, 15)])
    if kind in (ActivityType.MEETING, ActivityType.DEMO):
        return _weighted(rng, [(60, 70), (90, 20), (45, 10)])
    if kind in (ActivityType.CALL, ActivityType.FOLLOW_UP):
        return rng.randint(2, 15)
    return rng.choice([5, 10, 15])


# ------------------------------------------------------------------ reference data
def _ensure_stages() -> dict[str, Stage]:
    for code, name, name_zh, order, probability, kind in DEFAULT_STAGES:
        Stage.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_zh": name_zh,
                "order": order,
                "probability": probability,
                "kind": kind,
            },
        )
    return {s.code: s for s in Stage.objects.filter(code__in=[s[0] for s in DEFAULT_STAGES])}


def _ensure_products() -> list[ProductInfo]:
    existing = set(Product.objects.values_list("code", flat=True))
    Product.objects.bulk_create(
        [
            Product(
                code=code,
                name=name,
                category=category,
                unit_price=Decimal(price),
                description=description,
                feature=feature,
                advantage=advantage,
                benefit=benefit,
            )
            for code, name, category, price, description, feature, advantage, benefit, _ in (
                T.PRODUCTS
            )
            if code not in existing
        ]
    )
    kinds = {p[0]: p[8] for p in T.PRODUCTS}
    return [
        ProductInfo(p.pk, p.code, p.name, p.unit_price, kinds[p.code])
        for p in Product.objects.filter(code__in=kinds).order_by("code")
    ]


def _people(ctx: SeedContext) -> dict[int, Person]:
    users = list(User.objects.filter(pk__in=[u.pk for u in ctx.users.values()]))
    by_id = {u.pk: u for u in users}
    people = {}
    for user in users:
        approver = None
        for pk in reversed(user.ancestor_pks):
            boss = by_id.get(pk)
            if boss is not None and boss.role in (Role.MANAGER, Role.DIRECTOR):
                approver = pk
                break
        people[user.pk] = Person(user.pk, user.username, user.role, approver)
    return people


def _ensure_events(world: World) -> list[tuple[int, str, date, str]]:
    """Events of every month of the window (and the next), by (name, start date)."""
    organiser = (
        world.ctx.users.get("support1")
        or world.ctx.users.get("manager1")
        or next(iter(world.ctx.users.values()))
    )
    existing = set(Event.objects.values_list("name", "starts_on"))
    new = []
    month = world.start_day.replace(day=1)
    last = (world.today.replace(day=1) + timedelta(days=62)).replace(day=1)
    while month < last:
        for name, kind, venue, months in T.EVENTS:
            if month.month not in months:
                continue
            rng = random.Random(f"{world.seed}/event/{name}/{month}")
            starts = next_workday(month + timedelta(days=rng.randint(5, 20)))
            full = f"{name} {month.year}" if len(months) == 1 else f"{name} {month:%Y-%m}"
            if (full, starts) in existing:
                continue
            days = {"trade_show": 3, "forum": 2}.get(kind, 1)
            new.append(
                Event(
                    name=full,
                    kind=kind,
                    starts_on=starts,
                    ends_on=starts + timedelta(days=days - 1),
                    venue=venue,
                    owner=organiser,
                    budget=Decimal(rng.choice([20_000, 50_000, 80_000, 150_000, 300_000])),
                    notes="",
                )
            )
        month = (month + timedelta(days=32)).replace(day=1)
    Event.objects.bulk_create(new)
    return list(Event.objects.order_by("starts_on").values_list("id", "kind", "starts_on", "name"))


# ------------------------------------------------------------------ client histories
class ClientHistory:
    """Writes one demo client's history (deals, quotes, contracts, projects, activities)."""

    def __init__(self, world: World, c: ClientRow) -> None:
        self.w = world
        self.c = c
        self.rng = random.Random(f"{world.seed}/pipeline/{c.external_id}")
        self.deals: list[DealOut] = []
        self.lead_row: list[Any] | None = None
        before = c.created_at < world.start
        if c.status == ClientStatus.ACTIVE:
            self.lifecycle = client_seed.EXISTING if before else client_seed.NEW_WON
        elif c.status == ClientStatus.DORMANT:
            self.lifecycle = client_seed.EXISTING
        elif c.status == ClientStatus.LOST:
            self.lifecycle = client_seed.LOST
        elif c.external_id.startswith(client_seed.DUPLICATE_PREFIX) or before:
            self.lifecycle = client_seed.COLD
        else:
            self.lifecycle = client_seed.PROSPECT if self.rng.random() < 0.7 else client_seed.COLD
        self.key = c.account_manager_id is not None
        self.segment_factor = {
            "enterprise": 1.9,
            "mid_market": 1.0,
            "small_business": 0.4,
            "public_sector": 1.2,
        }.get(c.segment, 1.0)
        if self.key:
            self.segment_factor *= 1.4
        elif self.lifecycle == client_seed.EXISTING:
            self.segment_factor *= 0.65

    # -------------------------------------------------------------- helpers
    def contact(self) -> int | None:
        if not self.c.contacts:
            return None
        return self.c.contacts[0] if self.rng.random() < 0.5 else self.rng.choice(self.c.contacts)

    def deal_owner(self) -> int:
        am = self.c.account_manager_id
        if am and am != self.c.owner_id and self.rng.random() < 0.6:
            return am
        return self.c.owner_id

    def relationship_owner(self) -> int:
        am = self.c.account_manager_id
        if am and (am == self.c.owner_id or self.rng.random() < 0.6):
            return am
        return self.c.owner_id

    def amount(self, scale: float = 1.0) -> Decimal:
        # lognormal with mean ≈ ¥500,000 × segment factor
        value = self.rng.lognormvariate(12.9323, 0.6) * self.segment_factor * scale
        return Decimal(max(20_000, round(value, -3)))

    def at(self, t: datetime) -> datetime:
        return self.w.snap(t, self.rng)

    # -------------------------------------------------------------- plan
    def write(self) -> None:
        w, c, rng = self.w, self.c, self.rng
        life = self.lifecycle
        start = max(c.created_at, w.start)
        if life == client_seed.EXISTING:
            dormant = c.status == ClientStatus.DORMANT
            self.legacy_contract(dormant)
            lam = (5.0 if self.key else 1.0 if not dormant else 0.4) * w.intensity
            last = w.now - timedelta(days=220) if dormant else w.now
            for _ in range(_poisson(rng, lam)):
                created = start + (last - start) * rng.random()
                self.opportunity(created, kind="upsell")
            self.cadence_visits(start, last)
            if self.key:
                self.care_calls(start, last)
        elif life == client_seed.NEW_WON:
            lead_id = self.converted_lead()
            first = self.opportunity(
                c.created_at + timedelta(days=rng.uniform(0.5, 10)),
                kind="new",
                outcome="won",
                force_close=True,
                visits=rng.randint(3, 5),
            )
            if lead_id is not None and first is not None:
                self.link_lead(lead_id, first)
            won_at = first.closed if first and first.closed else c.created_at
            for _ in range(_poisson(rng, 0.8 * w.intensity)):
                created = won_at + (w.now - won_at) * rng.random()
                self.opportunity(created, kind="upsell")
            self.cadence_visits(won_at, w.now)
        elif life in (client_seed.PROSPECT, client_seed.LOST):
            lead_id = self.converted_lead()
            visits = rng.randint(1, 3)
            self.prospect_visits(visits)
            deal = None
            if life == client_seed.LOST or rng.random() < 0.6:
                outcome = "lost" if life == client_seed.LOST else None
                deal = self.opportunity(
                    c.created_at + timedelta(days=rng.uniform(3, 30)),
                    kind="new",
                    outcome=outcome,
                    avoid_win=True,
                )
            for _ in range(_poisson(rng, 0.6 * (w.intensity - 1))):
                self.opportunity(start + (w.now - start) * rng.random(), kind="new", avoid_win=True)
            if lead_id is not None and deal is not None:
                self.link_lead(lead_id, deal)
        else:  # cold
            for _ in range(rng.randint(1, 2)):
                t = self.at(start + (w.now - start) * rng.random())
                self.w.activity(
                    rng,
                    type=ActivityType.CALL,
                    at=t,
                    owner_id=c.owner_id,
                    client_id=c.id,
                    contact_id=self.contact(),
                    subject="Intro call",
                    outcome=rng.choice(T.CALL_OUTCOMES),
                )
            if rng.random() < 0.15 or w.intensity > 1:
                for _ in range(max(1, _poisson(rng, 0.5 * (w.intensity - 1)))):
                    self.opportunity(
                        start + (w.now - start) * rng.random(), kind="new", avoid_win=True
                    )
        if c.status == ClientStatus.ACTIVE:
            # The current pipeline: opportunities opened in the last few months.
            for _ in range(_poisson(rng, 0.35 * w.intensity)):
                self.opportunity(w.now - timedelta(days=rng.uniform(1, 100)), kind="upsell")
        if c.status == ClientStatus.ACTIVE and rng.random() < 0.3:
            w.activity(
                rng,
                type=ActivityType.OTHER,
                at=self.at(start + (w.now - start) * rng.random()),
                owner_id=self.relationship_owner(),
                client_id=c.id,
                subject=rng.choice(T.OTHER_SUBJECTS),
            )
        if c.status == ClientStatus.ACTIVE and rng.random() < 0.3:
            t = self.at(max(start, w.now - timedelta(days=rng.uniform(5, 300))))
            w.activity(
                rng,
                type=ActivityType.FOLLOW_UP,
                at=t,
                owner_id=self.relationship_owner(),
                client_id=c.id,
                contact_id=self.contact(),
                subject="Follow-up after a solved problem",
                follow_up=FollowUpReason.AFTER_PROBLEM,
                outcome="Confirmed the fix works; client satisfied.",
            )
        if self.lead_row is not None:
            w.w_lead.add(self.lead_row)

    # -------------------------------------------------------------- leads
    def converted_lead(self) -> int | None:
        """Most clients found in the window were leads first (linked on conversion)."""
        w, c, rng = self.w, self.c, self.rng
        if c.created_at < w.start or rng.random() > 0.65:
            return None
        source = {
            "sales_visit": LeadSource.SALES_VISIT,
            "website": LeadSource.WEBSITE,
            "trade_show": LeadSource.TRADE_SHOW,
            "referral": LeadSource.REFERRAL,
        }.get(c.source) or rng.choice([LeadSource.COLD_CALL, LeadSource.ONLINE_MARKETING])
        created = self.at(c.created_at - timedelta(days=rng.uniform(3, 40)))
        event_id, campaign = w_event_for(w, rng, source, w.local_day(created))
        pk = w.new_id(Lead)
        contact_id = c.contacts[0] if c.contacts else None
        name, local = client_seed.person(rng, english_name=rng.random() < 0.2)
        phone = client_seed.mobile(rng.randint(0, 10**7))
        domain = c.email.partition("@")[2] or "example.cn"
        self.lead_row = [
            pk,
            name,
            c.name,
            normalize_name(c.name),
            "",
            phone,
            normalize_phone(phone),
            normalize_email(f"{local}@{domain}"),
            "",
            source,
            campaign,
            event_id,
            c.owner_id,
            LeadStatus.CONVERTED,
            "",
            "",
            c.id,
            contact_id,
            None,
            c.created_at,
            c.owner_id,
            created,
            c.created_at,
            1,
        ]
        for k in range(rng.randint(1, 3)):
            t = self.at(created + timedelta(days=k * rng.uniform(1, 8)))
            if t < c.created_at:
                w.activity(
                    rng,
                    type=ActivityType.CALL,
                    at=t,
                    owner_id=c.owner_id,
                    lead_id=pk,
                    subject="Qualification call",
                    outcome=rng.choice(T.CALL_OUTCOMES),
                )
        return pk

    def link_lead(self, lead_id: int, deal: DealOut) -> None:
        self.lead_row[18] = deal.id

    # -------------------------------------------------------------- visits
    def cadence_visits(self, begin: datetime, end: datetime) -> None:
        w, c, rng = self.w, self.c, self.rng
        days = CADENCE_DAYS.get(c.cadence)
        end = min(end + timedelta(days=14), w.now + timedelta(days=14))
        t = begin + timedelta(days=rng.uniform(1, days or 60))
        while t < end:
            interval = days or rng.uniform(60, 150)
            if rng.random() > 0.12:
                at = self.at(t)
                spin = rng.choice(T.SPIN) if rng.random() < 0.15 else None
                w.activity(
                    rng,
                    type=ActivityType.VISIT,
                    at=at,
                    owner_id=self.relationship_owner(),
                    client_id=c.id,
                    contact_id=self.contact(),
                    subject="Regular visit",
                    outcome=rng.choice(T.VISIT_OUTCOMES),
                    next_step=rng.choice(T.NEXT_STEPS) if rng.random() < 0.5 else "",
                    spin=spin,
                )
            t += timedelta(days=interval * rng.uniform(0.85, 1.2))

    def prospect_visits(self, count: int) -> None:
        w, c, rng = self.w, self.c, self.rng
        t = c.created_at
        for _ in range(count):
            t = t + timedelta(days=rng.uniform(3, 25))
            w.activity(
                rng,
                type=ActivityType.VISIT,
                at=self.at(t),
                owner_id=c.owner_id,
                client_id=c.id,
                contact_id=self.contact(),
                subject="First visit" if t == c.created_at else "Prospect visit",
                outcome=rng.choice(T.VISIT_OUTCOMES),
                spin=rng.choice(T.SPIN) if rng.random() < 0.6 else None,
                objection=rng.choice(T.OBJECTIONS) if rng.random() < 0.3 else None,
            )

    def care_calls(self, begin: datetime, end: datetime) -> None:
        w, c, rng = self.w, self.c, self.rng
        t = begin + timedelta(days=rng.uniform(5, 30))
        while t < min(end, w.now):
            w.activity(
                rng,
                type=ActivityType.FOLLOW_UP,
                at=self.at(t),
                owner_id=c.account_manager_id or c.owner_id,
                client_id=c.id,
                contact_id=self.contact(),
                subject="Care call",
                follow_up=FollowUpReason.CARE_CALL,
                outcome="Regular care call; no open issues.",
            )
            t += timedelta(days=rng.uniform(25, 40))

    # -------------------------------------------------------------- deals
    def opportunity(
        self,
        created: datetime,
        *,
        kind: str,
        outcome: str | None = None,
        force_close: bool = False,
        visits: int | None = None,
        avoid_win: bool = False,
        amount: Decimal | None = None,
        owner_id: int | None = None,
        renews: dict[str, Any] | None = None,
    ) -> DealOut | None:
        """One deal through the stages, with its quotes, activities, contract and project."""
        w, c, rng = self.w, self.c, self.rng
        created = self.at(max(created, c.created_at))
        if created >= w.now:
            return None
        owner_id = owner_id or (c.owner_id if kind == "new" else self.deal_owner())
        renewal = kind == "renewal"
        path = ["proposal", "negotiation"] if renewal else list(OPEN_PATH)
        if outcome is None:
            if avoid_win:
                outcome = "lost" if rng.random() < 0.55 else "stall"
            elif renewal:
                outcome = "won" if rng.random() < RENEWAL_RATE else "lost"
            else:
                r = rng.random()
                win = 0.15 + 0.85 * NEGOTIATION_WIN
                outcome = "lost_early" if r < 0.15 else "won" if r < win else "lost"
        lost_at = None
        if outcome == "lost_early":
            lost_at = _weighted(
                rng, [("first_contact", 2), ("needs_analysis", 3.5), ("proposal", 4.5)]
            )
            outcome = "lost"
        elif outcome == "lost":
            lost_at = "proposal" if renewal and rng.random() < 0.4 else "negotiation"

        # Stage timeline, in days after creation.
        spans = {
            "first_contact": rng.uniform(3, 12),
            "needs_analysis": rng.uniform(7, 25),
            "proposal": rng.uniform(10, 28) if not renewal else rng.uniform(7, 20),
            "negotiation": min(60, max(12, rng.gauss(31, 8)))
            if not renewal
            else min(45, max(8, rng.gauss(24, 6))),
        }
        if outcome == "lost":
            path = path[: path.index(lost_at) + 1]
        elif outcome == "stall":  # still open, parked in some stage
            path = path[: _weighted(rng, [(1, 30), (2, 30), (3, 25), (4, 15)])]
        offsets, total = [], 0.0
        for code in path:
            offsets.append(total)
            total += spans[code]
        if outcome == "lost":
            total -= spans[lost_at] * rng.uniform(0.2, 0.8)
        elapsed = (w.now - created).total_seconds() / 86400
        scale = 1.0
        if outcome == "stall" and offsets[-1] > 0:
            scale = min(1.0, elapsed * rng.uniform(0.3, 0.95) / offsets[-1])
        elif force_close and total > elapsed - 1.5 > 0:
            scale = (elapsed - 1.5) / total
        entries: list[tuple[str, datetime]] = [(path[0], created)]
        for code, offset in zip(path[1:], offsets[1:], strict=True):
            t = self.at(created + timedelta(days=offset * scale))
            entries.append((code, max(t, entries[-1][1] + timedelta(minutes=30))))
        close_at = self.at(created + timedelta(days=total * scale))
        close_at = max(close_at, entries[-1][1] + timedelta(hours=2))
        closes = outcome in ("won", "lost") and close_at <= w.now
        visible = [(code, t) for code, t in entries if t <= w.now]
        current = visible[-1][0]
        if closes:
            final_stage = outcome
            stage_changed_at = close_at
        else:
            final_stage = current
            stage_changed_at = visible[-1][1]

        # Money: an estimate, then the quotes; the won amount is the last quote's net.
        target = amount or self.amount(0.9 if kind == "upsell" else 1.0)
        pk = w.new_id(Deal)
        quotes_net = self.quotes(
            pk, owner_id, target, visible, close_at if closes else None, final_stage
        )
        estimate = Decimal(round(float(target) * rng.uniform(0.85, 1.25), -3))
        final_amount = quotes_net[-1][0] if quotes_net else target
        deal_amount = final_amount if (quotes_net or final_stage == "won") else estimate
        product_ids = (
            quotes_net[-1][1] if quotes_net else rng.sample([p.id for p in w.main_products], 1)
        )
        for product_id in sorted(set(product_ids)):
            w.w_deal_products.add((pk, product_id))

        # Stage history: creation, every move, the close.
        amounts = []
        for i, (code, t) in enumerate(visible):
            amt = estimate if i < 2 or not quotes_net else quotes_net[0][0]
            amounts.append(amt)
            w.w_change.add(
                (
                    pk,
                    w.stage_ids[visible[i - 1][0]] if i else None,
                    w.stage_ids[code],
                    owner_id,
                    t,
                    amt,
                    w.stages[code].probability,
                    owner_id,
                )
            )
        if closes:
            w.w_change.add(
                (
                    pk,
                    w.stage_ids[current],
                    w.stage_ids[final_stage],
                    owner_id,
                    close_at,
                    deal_amount,
                    w.stages[final_stage].probability,
                    owner_id,
                )
            )

        client_name = _short(c.name)
        main = next((p for p in w.products if p.id in product_ids), None)
        title = {
            "renewal": f"Renewal {close_at.year} — {client_name}",
            "upsell": f"{main.name if main else 'Expansion'} — {client_name} "
            f"(phase {rng.randint(2, 4)})",
        }.get(kind, f"{main.name if main else 'Solution'} for {client_name}")
        probability = w.stages[final_stage].probability
        if final_stage in OPEN_PATH and rng.random() < 0.2:
            probability = max(5, min(95, probability + rng.choice([-10, -5, 5, 10])))
        expected = w.local_day(close_at)
        if not closes and expected < w.today:
            expected = w.today + timedelta(days=rng.randint(7, 60))
        if not closes and rng.random() < 0.1:
            expected = w.today - timedelta(days=rng.randint(1, 30))  # slipped, needs attention
        closed_on = w.local_day(close_at) if closes else None
        lost_reason = competitor = ""
        if final_stage == "lost":
            lost_reason = rng.choice(T.LOST_REASONS)
            competitor = (
                rng.choice(T.COMPETITORS)
                if lost_reason in ("Chose a competitor", "Price too high") or rng.random() < 0.4
                else ""
            )
        next_step = rng.choice(T.NEXT_STEPS) if final_stage in OPEN_PATH else ""
        currency = "USD" if final_stage in OPEN_PATH and rng.random() < 0.01 else "CNY"

        last_touch = self.deal_activities(
            pk, owner_id, visible, close_at if closes else None, final_stage, visits, product_ids
        )
        updated = max(stage_changed_at, min(last_touch or stage_changed_at, w.now))
        w.w_deal.add(
            (
                pk,
                c.id,
                owner_id,
                title[:200],
                deal_amount,
                currency,
                w.stage_ids[final_stage],
                probability,
                expected,
                closed_on,
                next_step,
                lost_reason,
                competitor,
                stage_changed_at,
                created,
                updated,
                1,
            )
        )
        out = DealOut(
            id=pk,
            owner_id=owner_id,
            outcome=final_stage if final_stage in ("won", "lost") else "open",
            created=created,
            closed=close_at if closes else None,
            amount=deal_amount,
            has_main_product=any(p.id in product_ids for p in w.main_products),
        )
        self.deals.append(out)
        if final_stage == "won":
            contract = self.contract_for(out, renews)
            if not renewal and (out.has_main_product or rng.random() < 0.3) and contract:
                self.project_for(out, contract)
        return out

    def quotes(
        self,
        deal_id: int,
        owner_id: int,
        target: Decimal,
        visible: list[tuple[str, datetime]],
        closed: datetime | None,
        final_stage: str,
    ) -> list[tuple[Decimal, list[int]]]:
        """Quote revisions from the proposal stage on; returns [(net, product ids)]."""
        w, rng = self.w, self.rng
        entered = dict(visible)
        if "proposal" not in entered:
            return []
        times = [self.at(entered["proposal"] + timedelta(days=rng.uniform(0.2, 3)))]
        if "negotiation" in entered and rng.random() < 0.45:
            times.append(self.at(entered["negotiation"] + timedelta(days=rng.uniform(1, 10))))
        limit = closed or w.now
        times = [t for t in times if t <= limit] or [
            min(limit, entered["proposal"] + timedelta(hours=2))
        ]
        number = w.quote_numbers.next(w.local_day(times[0]))
        lines = self.quote_lines(target)
        results = []
        person = w.people.get(owner_id)
        for revision, created in enumerate(times, start=1):
            last = revision == len(times)
            if revision > 1:  # the new revision gives in a little on price
                cut = Decimal(rng.choice([0, 2, 3, 5]))
                lines = [(p, q, u, max(Decimal("0"), d - cut)) for p, q, u, d in lines]
            subtotal = discount_total = Decimal("0.00")
            max_discount = Decimal("0")
            for _, quantity, price, disc in lines:
                gross = to_fen(quantity * price)
                discount = to_fen(gross * disc / HUNDRED)
                subtotal += gross
                discount_total += discount
                max_discount = max(max_discount, disc)
            net = subtotal - discount_total
            tax = to_fen(net * Decimal("13") / HUNDRED)
            if not last:
                status = Quote.Status.REJECTED
            elif final_stage == "won":
                status = Quote.Status.ACCEPTED
            elif final_stage == "lost":
                status = Quote.Status.REJECTED if rng.random() < 0.7 else Quote.Status.EXPIRED
            elif created + timedelta(days=30) < w.now:
                status = Quote.Status.EXPIRED
            elif created > w.now - timedelta(days=7) and rng.random() < 0.4:
                status = Quote.Status.DRAFT
            else:
                status = Quote.Status.SENT
            approval = Quote.Approval.NOT_NEEDED
            quote_id = w.new_id(Quote)
            if max_discount > w.threshold and person is not None and person.approver_id:
                asked = created + timedelta(minutes=rng.randint(10, 120))
                if status == Quote.Status.DRAFT:
                    decision = QuoteApproval.Decision.PENDING
                elif not last and rng.random() < 0.5:
                    decision = QuoteApproval.Decision.REJECTED
                else:
                    decision = QuoteApproval.Decision.APPROVED
                decided = (
                    None
                    if decision == "pending"
                    else min(w.now, asked + timedelta(hours=rng.uniform(1, 30)))
                )
                comment = {
                    "approved": rng.choice(
                        [
                            "OK given the volume.",
                            "Approved — strategic account.",
                            "同意，注意回款周期。",
                        ]
                    ),
                    "rejected": "Too deep; stay within 10% or add services.",
                    "pending": "",
                }[decision]
                w.w_approval.add(
                    (
                        quote_id,
                        owner_id,
                        asked,
                        person.approver_id,
                        max_discount,
                        decision,
                        comment,
                        decided,
                    )
                )
                approval = decision
            sent_at = (
                None
                if status == Quote.Status.DRAFT
                else min(w.now, created + timedelta(hours=rng.uniform(1, 20)))
            )
            w.w_quote.add(
                (
                    quote_id,
                    deal_id,
                    number,
                    revision,
                    status,
                    "CNY",
                    Decimal("13.00"),
                    w.local_day(created) + timedelta(days=30),
                    "",
                    subtotal,
                    discount_total,
                    tax,
                    net + tax,
                    max_discount.quantize(FEN),
                    approval,
                    owner_id,
                    created,
                    sent_at or created,
                    sent_at,
                    1,
                )
            )
            for position, (product, quantity, price, disc) in enumerate(lines):
                w.w_line.add((quote_id, product.id, product.name, quantity, price, disc, position))
            results.append((net, [p.id for p, *_ in lines]))
        return results

    def quote_lines(self, target: Decimal) -> list[tuple[ProductInfo, Decimal, Decimal, Decimal]]:
        w, rng = self.w, self.rng
        lines = []
        budget = target
        affordable = [p for p in w.main_products if p.price <= target * Decimal("0.8")]
        if affordable:
            main = rng.choice(affordable)
            quantity = max(1, min(6, int(target * Decimal("0.6") / main.price)))
            lines.append((main, Decimal(quantity), main.price))
            budget -= main.price * quantity
        if w.addons and rng.random() < 0.5:
            addon = rng.choice(w.addons)
            quantity = rng.randint(1, 8)
            lines.append((addon, Decimal(quantity), addon.price))
            budget -= addon.price * quantity
        if rng.random() < 0.4 and "SVC-TRAIN" in w.services:
            train = w.services["SVC-TRAIN"]
            days = rng.randint(1, 5)
            lines.append((train, Decimal(days), train.price))
            budget -= train.price * days
        if rng.random() < 0.3 and "SVC-SUPPORT" in w.services:
            support = w.services["SVC-SUPPORT"]
            lines.append((support, Decimal(1), support.price))
            budget -= support.price
        impl = w.services.get("SVC-IMPL")
        if impl is not None and (budget > impl.price * 5 or not lines):
            days = max(5, int(budget / impl.price))
            lines.append((impl, Decimal(days), impl.price))
        out = []
        for product, quantity, price in lines:
            disc = Decimal(
                _weighted(
                    rng, [(0, 50), (5, 15), (8, 10), (10, 12), (12, 4), (15, 4), (20, 3), (25, 2)]
                )
            )
            out.append((product, quantity, price, disc))
        return out

    def deal_activities(
        self,
        deal_id: int,
        owner_id: int,
        visible: list[tuple[str, datetime]],
        closed: datetime | None,
        final_stage: str,
        visits: int | None,
        product_ids: list[int],
    ) -> datetime | None:
        """Calls, visits, demos and meetings that moved the deal; returns the last one."""
        w, c, rng = self.w, self.c, self.rng
        entered = dict(visible)
        end = closed or w.now + timedelta(days=14)
        moments: list[datetime] = []

        def act(kind: str, t: datetime, subject: str, **kw: Any) -> None:
            t = self.at(t)
            if t > end:
                return
            written = w.activity(
                rng,
                type=kind,
                at=t,
                owner_id=owner_id,
                client_id=c.id,
                deal_id=deal_id,
                contact_id=self.contact(),
                subject=subject,
                **kw,
            )
            if written is not None and t <= w.now:
                moments.append(t)

        stages = [code for code, _ in visible]
        if visits is None:
            visits = rng.randint(1, 2) if "needs_analysis" in stages else 0
        first = visible[0][1]
        act(ActivityType.CALL, first, "Intro call", outcome=rng.choice(T.CALL_OUTCOMES))
        na = entered.get("needs_analysis")
        pr = entered.get("proposal")
        ne = entered.get("negotiation")
        visit_slots = [t for t in (na, na and na + timedelta(days=6), pr, ne) if t is not None]
        for k in range(visits):
            base = visit_slots[k % len(visit_slots)] if visit_slots else first
            act(
                ActivityType.VISIT,
                base + timedelta(days=rng.uniform(0.5, 5) + k // max(1, len(visit_slots)) * 7),
                "Needs analysis visit" if k == 0 else "Follow-up visit",
                outcome=rng.choice(T.VISIT_OUTCOMES),
                spin=rng.choice(T.SPIN) if rng.random() < 0.6 else None,
                objection=rng.choice(T.OBJECTIONS) if rng.random() < 0.25 else None,
            )
        if pr is not None:
            demo_products = tuple(sorted(set(product_ids))[:2])
            act(
                ActivityType.DEMO,
                pr - timedelta(days=rng.uniform(1, 4)),
                "Product demo",
                outcome="Demo went well; IT asked for the integration guide.",
                products=demo_products,
            )
            act(ActivityType.EMAIL, pr + timedelta(days=rng.uniform(0.2, 2)), "Proposal sent")
        if ne is not None:
            for k in range(rng.randint(1, 2)):
                act(
                    ActivityType.MEETING,
                    ne + timedelta(days=rng.uniform(2, 12) + k * 9),
                    "Negotiation meeting",
                    outcome="Discussed price and payment terms.",
                    spin=rng.choice(T.SPIN) if rng.random() < 0.3 else None,
                    objection=rng.choice(T.OBJECTIONS[:2] + T.OBJECTIONS[2:3])
                    if rng.random() < 0.4
                    else None,
                )
            act(
                ActivityType.CALL,
                ne + timedelta(days=rng.uniform(1, 6)),
                "Follow-up call",
                outcome=rng.choice(T.CALL_OUTCOMES),
            )
        if final_stage == "won" and closed is not None:
            act(
                ActivityType.EMAIL,
                closed - timedelta(days=rng.uniform(0.1, 2)),
                "Contract sent for signature",
            )
        elif final_stage == "lost" and closed is not None:
            act(
                ActivityType.CALL,
                closed + timedelta(hours=rng.uniform(1, 30)),
                "Debrief call",
                outcome="Asked why we lost; noted for the next tender.",
            )
        elif final_stage in OPEN_PATH:
            act(
                ActivityType.VISIT if rng.random() < 0.5 else ActivityType.CALL,
                w.now + timedelta(days=rng.uniform(0.5, 12)),
                "Next step: " + rng.choice(T.NEXT_STEPS),
            )
        return max(moments) if moments else None

    # -------------------------------------------------------------- contracts
    def legacy_contract(self, dormant: bool) -> None:
        """The contract an existing customer had before the window (no deal in the CRM)."""
        w, rng = self.w, self.rng
        if dormant:  # ran out before the window and was not renewed
            start = w.start_day - timedelta(days=rng.randint(400, 700))
        else:
            start = w.start_day - timedelta(days=rng.randint(-180, 270))
        self.write_contract(
            deal=None,
            owner_id=self.c.account_manager_id or self.c.owner_id,
            amount=self.amount(),
            signed=start - timedelta(days=rng.randint(3, 20)),
            start=start,
            renews=None,
            renewable=not dormant,
        )

    def contract_for(self, deal: DealOut, renews: dict[str, Any] | None) -> dict[str, Any] | None:
        w, rng = self.w, self.rng
        closed_on = w.local_day(deal.closed)
        if renews is not None:
            start = renews["end"] + timedelta(days=1)
        else:
            start = closed_on + timedelta(days=rng.randint(0, 14))
        pending = closed_on > w.today - timedelta(days=15) and rng.random() < 0.6
        return self.write_contract(
            deal=deal,
            owner_id=deal.owner_id,
            amount=deal.amount,
            signed=None if pending else closed_on,
            start=start,
            renews=renews,
        )

    def write_contract(
        self,
        *,
        deal: DealOut | None,
        owner_id: int,
        amount: Decimal,
        signed: date | None,
        start: date,
        renews: dict[str, Any] | None,
        renewable: bool = True,
    ) -> dict[str, Any]:
        w, c, rng = self.w, self.c, self.rng
        term = 730 if rng.random() < 0.2 else 365
        end = start + timedelta(days=term - 1)
        pk = w.new_id(Contract)
        contract = {"id": pk, "start": start, "end": end, "amount": amount}
        if signed is None:
            status = rng.choice(
                [ContractStatus.DRAFT, ContractStatus.LEGAL_REVIEW, ContractStatus.APPROVED]
            )
        elif start > w.today:
            status = ContractStatus.SIGNED
        elif end >= w.today:
            status = ContractStatus.TERMINATED if rng.random() < 0.02 else ContractStatus.ACTIVE
        else:
            status = ContractStatus.EXPIRED
        renewed = False
        due = end - timedelta(days=90) <= w.today
        if renewable and signed is not None and status != ContractStatus.TERMINATED and due:
            created = w.moment(end - timedelta(days=rng.randint(60, 90)), 10 * 60)
            renewal = None
            if w.start <= created < w.now:
                renewal = self.opportunity(
                    created,
                    kind="renewal",
                    amount=Decimal(round(float(amount) * rng.uniform(0.95, 1.15), -3)),
                    owner_id=self.c.account_manager_id or owner_id,
                    renews=contract,
                )
            renewed = renewal is not None and renewal.outcome == "won"
        if renewed and end < w.today:
            status = ContractStatus.RENEWED
        created_at = w.moment(signed or (deal and w.local_day(deal.closed)) or start, 11 * 60)
        created_at = min(created_at, w.now)
        number = w.contract_numbers.next(signed or w.local_day(created_at))
        title = f"{'Renewal' if renews else 'Contract'} — {_short(c.name)}"
        w.w_contract.add(
            (
                pk,
                c.id,
                deal.id if deal else None,
                owner_id,
                number,
                title[:200],
                amount,
                "CNY",
                start,
                end,
                rng.choice(T.PAYMENT_TERMS),
                status,
                signed,
                renews["id"] if renews else None,
                created_at,
                created_at,
                1,
            )
        )
        return contract

    # -------------------------------------------------------------- projects
    def project_for(self, deal: DealOut, contract: dict[str, Any]) -> None:
        w, c, rng = self.w, self.c, self.rng
        start = contract["start"]
        length = rng.randint(60, 180)
        due = start + timedelta(days=length)
        pk = w.new_id(Project)
        milestone_owner = c.account_manager_id or deal.owner_id
        done_all = True
        any_started = start <= w.today
        completed_on = None
        go_live_done: date | None = None
        hold = rng.random() < 0.03
        cancelled = rng.random() < 0.02
        for position, (name, fraction) in enumerate(T.MILESTONES):
            mid = w.new_id(Milestone)
            m_due = start + timedelta(days=round(length * fraction))
            finished = None
            if m_due < w.today and not hold and not cancelled and rng.random() < 0.88:
                finished = min(
                    w.today - timedelta(days=1), m_due + timedelta(days=rng.randint(-5, 7))
                )
                status = Milestone.Status.DONE
            elif m_due <= w.today + timedelta(days=20) and any_started:
                status = Milestone.Status.IN_PROGRESS
            else:
                status = Milestone.Status.PENDING
            if status != Milestone.Status.DONE:
                done_all = False
            elif name == "Go-live":
                go_live_done = finished
            completed_on = finished
            w.w_milestone.add((mid, pk, name, milestone_owner, m_due, status, finished, position))
            for k in range(rng.randint(1, 2)):
                t_due = m_due - timedelta(days=rng.randint(1, 10) * (k + 1))
                done = status == Milestone.Status.DONE or (t_due < w.today and rng.random() < 0.6)
                w.w_task.add(
                    (
                        pk,
                        mid,
                        rng.choice(T.TASKS),
                        rng.choice([milestone_owner, deal.owner_id]),
                        t_due,
                        done,
                        min(w.now, w.moment(min(t_due, w.today), 16 * 60)) if done else None,
                    )
                )
        if cancelled:
            status, completed_on = Project.Status.CANCELLED, None
        elif hold:
            status, completed_on = Project.Status.ON_HOLD, None
        elif done_all:
            status = Project.Status.COMPLETED
        elif any_started:
            status, completed_on = Project.Status.IN_PROGRESS, None
        else:
            status, completed_on = Project.Status.PLANNED, None
        created = min(w.now, deal.closed + timedelta(days=1))
        w.w_project.add(
            (
                pk,
                c.id,
                deal.id,
                contract["id"],
                deal.owner_id,
                f"Delivery — {_short(c.name)} ({start:%Y-%m})",
                "Go live on time; users trained; acceptance signed.",
                status,
                start,
                due,
                completed_on,
                created,
                created,
                1,
            )
        )
        if go_live_done is not None:
            t = self.at(w.moment(go_live_done, 10 * 60) + timedelta(days=rng.uniform(7, 14)))
            w.activity(
                rng,
                type=ActivityType.FOLLOW_UP,
                at=t,
                owner_id=c.account_manager_id or deal.owner_id,
                client_id=c.id,
                deal_id=deal.id,
                contact_id=self.contact(),
                subject="Follow-up after go-live",
                follow_up=FollowUpReason.AFTER_GO_LIVE,
                outcome="Users working on the new system; two small change requests noted.",
            )


def _short(name: str) -> str:
    for suffix in (
        "股份有限公司",
        "集团有限公司",
        "有限责任公司",
        "有限公司",
        " Co., Ltd.",
        " Limited",
    ):
        name = name.removesuffix(suffix)
    return name


def w_event_for(w: World, rng: random.Random, source: str, day: date) -> tuple[int | None, str]:
    """The event or campaign a lead came from (the nearest one before ``day``)."""
    kinds = {
        LeadSource.TRADE_SHOW: ("trade_show", "forum", "seminar", "client_event"),
        LeadSource.ONLINE_MARKETING: ("campaign", "webinar"),
    }.get(source)
    if source == LeadSource.WEBSITE:
        return None, "Website contact form"
    if not kinds:
        return None, ""
    candidates = [e for e in w.events if e[1] in kinds and day - timedelta(days=45) <= e[2] <= day]
    if not candidates:
        return None, "Online campaign" if source == LeadSource.ONLINE_MARKETING else ""
    event = candidates[-1] if rng.random() < 0.7 else rng.choice(candidates)
    return event[0], event[3]


# ------------------------------------------------------------------ phase 1
def _pending_clients(chunk_size: int) -> Iterator[list[ClientRow]]:
    demo = Client.objects.filter(external_id__startswith=client_seed.EXTERNAL_PREFIX)
    pending = (
        demo.exclude(Exists(Deal.objects.filter(client=OuterRef("pk"))))
        .exclude(Exists(Activity.objects.filter(client=OuterRef("pk"))))
        .exclude(Exists(Lead.objects.filter(converted_client=OuterRef("pk"))))
        .order_by("external_id")
        .values_list(
            "id",
            "external_id",
            "owner_id",
            "account_manager_id",
            "status",
            "segment",
            "cadence",
            "created_at",
            "name",
            "source",
            "email",
        )
    )
    rows = [ClientRow(*values) for values in pending]
    for begin in range(0, len(rows), chunk_size):
        chunk = rows[begin : begin + chunk_size]
        by_id = {c.id: c for c in chunk}
        for client_id, contact_id in (
            Contact.objects.filter(client_id__in=by_id)
            .order_by("client_id", "-is_primary", "pk")
            .values_list("client_id", "id")
        ):
            by_id[client_id].contacts.append(contact_id)
        yield chunk


def seed_client_histories(world: World) -> int:
    count = 0
    for chunk in _pending_clients(250):
        for client in chunk:
            ClientHistory(world, client).write()
            count += 1
        world.loader.flush()
    return count


# ------------------------------------------------------------------ phase 2
def _owners(world: World) -> list[Person]:
    return sorted(
        (p for p in world.people.values() if p.role in (Role.REP, Role.ACCOUNT_MANAGER)),
        key=lambda p: p.username,
    )


def seed_leads(world: World) -> None:
    """New leads every week from every source, topped up per person and week."""
    owners = _owners(world)
    first_monday = world.start_day - timedelta(days=world.start_day.weekday())
    existing: dict[tuple[int, date], int] = defaultdict(int)
    for owner_id, day, n in (
        Lead.objects.filter(
            owner_id__in=[o.id for o in owners], created_at__gte=world.moment(world.start_day, 0)
        )
        .annotate(day=TruncDate("created_at", tzinfo=world.tz))
        .values_list("owner_id", "day")
        .annotate(n=Count("id"))
    ):
        existing[(owner_id, day - timedelta(days=day.weekday()))] += n
    for owner in owners:
        low, high = LEADS_PER_WEEK[owner.role]
        monday = first_monday
        while monday <= world.today:
            rng = random.Random(f"{world.seed}/leads/{owner.username}/{monday}")
            target = rng.randint(low, high)
            days = [
                d
                for d in workdays(max(monday, world.start_day), monday + timedelta(days=4))
                if d < world.today
            ]
            for _ in range(max(0, target - existing[(owner.id, monday)]) if days else 0):
                _write_lead(world, rng, owner, world.work_moment(rng, rng.choice(days)))
            monday += timedelta(days=7)
    world.loader.flush()


def _write_lead(world: World, rng: random.Random, owner: Person, created: datetime) -> None:
    source = _weighted(
        rng,
        [
            (LeadSource.COLD_CALL, 25),
            (LeadSource.WEBSITE, 20),
            (LeadSource.TRADE_SHOW, 18),
            (LeadSource.ONLINE_MARKETING, 15),
            (LeadSource.SALES_VISIT, 8),
            (LeadSource.REFERRAL, 8),
            (LeadSource.OTHER, 6),
        ],
    )
    age = (world.now - created).days
    if age < 10:
        status = _weighted(rng, [(LeadStatus.NEW, 70), (LeadStatus.CONTACTED, 30)])
    elif age < 45:
        status = _weighted(
            rng,
            [(LeadStatus.CONTACTED, 40), (LeadStatus.QUALIFIED, 30), (LeadStatus.DISQUALIFIED, 30)],
        )
    else:
        status = _weighted(
            rng,
            [
                (LeadStatus.NEW, 3),
                (LeadStatus.CONTACTED, 17),
                (LeadStatus.QUALIFIED, 20),
                (LeadStatus.DISQUALIFIED, 60),
            ],
        )
    english = rng.random() < 0.3
    company = client_seed.company_name(
        rng.randint(10_500, 31_000), english, rng, ("", "", "", "", ""), world.seed
    )
    name, local = client_seed.person(rng, english_name=english or rng.random() < 0.15)
    phone = client_seed.mobile(rng.randint(0, 10**8)) if rng.random() < 0.9 else ""
    email = f"{local}@{company['domain']}" if rng.random() < 0.8 else ""
    event_id, campaign = w_event_for(world, rng, source, world.local_day(created))
    role = rng.choice(client_seed.V.CONTACT_ROLES)
    updated = min(world.now, created + timedelta(days=rng.uniform(0, 20)))
    world.w_lead.add(
        (
            world.new_id(Lead),
            name,
            company["name"],
            normalize_name(company["name"]),
            role[1] if english else role[0],
            phone,
            normalize_phone(phone),
            normalize_email(email),
            "",
            source,
            campaign,
            event_id,
            owner.id,
            status,
            rng.choice(T.DISQUALIFY_REASONS) if status == LeadStatus.DISQUALIFIED else "",
            "",
            None,
            None,
            None,
            None,
            None,
            created,
            max(updated, created),
            1,
        )
    )


def seed_daily_work(world: World) -> None:
    """Top each person's calls up to 20–30 a working day and visits to 10–15 a week (reps)."""
    owners = _owners(world)
    counts: dict[tuple[int, date, str], int] = defaultdict(int)
    for owner_id, day, kind, n in (
        Activity.objects.filter(
            owner_id__in=[o.id for o in owners],
            start_at__gte=world.moment(world.start_day, 0),
            type__in=[ActivityType.CALL, ActivityType.VISIT],
        )
        .annotate(day=TruncDate("start_at", tzinfo=world.tz))
        .values_list("owner_id", "day", "type")
        .annotate(n=Count("id"))
    ):
        counts[(owner_id, day, kind)] = n
    horizon = world.today + timedelta(days=13)
    for owner in owners:
        leads = list(
            Lead.objects.filter(owner_id=owner.id)
            .exclude(status__in=[LeadStatus.NEW, LeadStatus.CONVERTED])
            .order_by("created_at", "pk")
            .values_list("id", "created_at", "status")
        )
        clients = list(
            Client.objects.filter(Q(owner_id=owner.id) | Q(account_manager_id=owner.id))
            .filter(
                status__in=[ClientStatus.ACTIVE, ClientStatus.DORMANT], created_at__lt=world.start
            )
            .order_by("pk")
            .values_list("id", flat=True)
        )
        lead_times = [lead[1] for lead in leads]
        low, high = CALLS_PER_DAY[owner.role]
        v_low, v_high = VISITS_PER_WEEK[owner.role]
        day = world.start_day
        while day <= horizon:
            if day.weekday() == 0 or day == world.start_day:
                monday = day - timedelta(days=day.weekday())
                week_rng = random.Random(f"{world.seed}/visits/{owner.username}/{monday}")
                week_days = [
                    d
                    for d in workdays(
                        max(monday, world.start_day), min(monday + timedelta(days=4), horizon)
                    )
                ]
                target = round(week_rng.randint(v_low, v_high) * len(week_days) / 5)
                have = sum(counts[(owner.id, d, ActivityType.VISIT)] for d in week_days)
                for _ in range(max(0, target - have)):
                    d = week_rng.choice(week_days)
                    at = world.work_moment(week_rng, d, first=9 * 60 + 30)
                    _top_up(
                        world, week_rng, owner, ActivityType.VISIT, at, leads, lead_times, clients
                    )
            if day < world.today and day.weekday() < 5:
                rng = random.Random(f"{world.seed}/calls/{owner.username}/{day}")
                target = 0 if rng.random() < 0.04 else rng.randint(low, high)
                for _ in range(max(0, target - counts[(owner.id, day, ActivityType.CALL)])):
                    at = world.work_moment(rng, day)
                    _top_up(world, rng, owner, ActivityType.CALL, at, leads, lead_times, clients)
            day += timedelta(days=1)
        world.loader.flush()


def _top_up(
    world: World,
    rng: random.Random,
    owner: Person,
    kind: str,
    at: datetime,
    leads: list[tuple[int, datetime, str]],
    lead_times: list[datetime],
    clients: list[int],
) -> None:
    """One call or visit: to a recent lead of theirs, or to one of their customers."""
    lo = bisect.bisect_left(lead_times, at - timedelta(days=45))
    hi = bisect.bisect_left(lead_times, at)
    lead_share = 0.6 if kind == ActivityType.CALL else 0.35
    if hi > lo and (rng.random() < lead_share or not clients):
        lead = leads[rng.randrange(lo, hi)]
        if kind == ActivityType.VISIT and lead[2] != LeadStatus.QUALIFIED and rng.random() < 0.7:
            lead = None
        if lead is not None:
            world.activity(
                rng,
                type=kind,
                at=at,
                owner_id=owner.id,
                lead_id=lead[0],
                subject="Cold call" if kind == ActivityType.CALL else "Presentation visit",
                outcome=rng.choice(
                    T.CALL_OUTCOMES if kind == ActivityType.CALL else T.VISIT_OUTCOMES
                ),
            )
            return
    if not clients:
        return
    world.activity(
        rng,
        type=kind,
        at=at,
        owner_id=owner.id,
        client_id=rng.choice(clients),
        subject="Check-in call" if kind == ActivityType.CALL else "Relationship visit",
        outcome=rng.choice(T.CALL_OUTCOMES if kind == ActivityType.CALL else T.VISIT_OUTCOMES),
    )


# ------------------------------------------------------------------ phase 3
def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def seed_targets(world: World) -> None:
    """Revenue targets growing 15% a quarter, per person, team, region and company.

    Each person's first-quarter target is set from what they won over the window,
    so attainment starts near 100% and drifts as the targets outgrow the results.
    """
    people = _owners(world)
    first_q = _quarter_start(world.start_day)
    last_q = _add_months(_quarter_start(world.today), 3)
    quarters = []
    q = first_q
    while q <= last_q:
        quarters.append(q)
        q = _add_months(q, 3)
    won = dict(
        Deal.objects.filter(
            owner_id__in=[p.id for p in people],
            stage__kind=Stage.Kind.WON,
            closed_on__gte=world.start_day,
            closed_on__lte=world.today,
        )
        .values_list("owner_id")
        .annotate(total=Sum("amount"))
    )
    growth = sum(QUARTERLY_GROWTH**i for i in range(6))
    per_person: dict[int, dict[date, Decimal]] = {}
    for person in people:
        base = Decimal(won.get(person.id) or 0) / growth
        base = max(Decimal("300000"), base).quantize(Decimal("10000"))
        per_person[person.id] = {
            quarter: (base * QUARTERLY_GROWTH**i).quantize(Decimal("1000"))
            for i, quarter in enumerate(quarters)
        }
    users = {u.pk: u for u in User.objects.filter(pk__in=per_person).select_related("team")}
    teams = list(Team.objects.exclude(kind=Team.Kind.COMPANY))
    scopes: list[tuple[int | None, int | None, dict[date, Decimal], int | None, tuple]] = []
    for person in people:
        rng = random.Random(f"{world.seed}/targets/{person.username}")
        activity = (
            (rng.randint(20, 30), rng.randint(10, 15), 2)
            if person.role == Role.REP
            else (rng.randint(4, 8), rng.randint(5, 8), 1)
        )
        scopes.append((person.id, None, per_person[person.id], person.approver_id, activity))
    for team in teams:
        members = [pk for pk, u in users.items() if u.team_id and u.team.path.startswith(team.path)]
        if not members:
            continue
        sums = {q: sum((per_person[m][q] for m in members), Decimal("0")) for q in quarters}
        scopes.append((None, team.pk, sums, team.manager_id, (None, None, None)))
    totals = {q: sum((per_person[p.id][q] for p in people), Decimal("0")) for q in quarters}
    director = world.ctx.users.get("director")
    scopes.append((None, None, totals, director.pk if director else None, (None, None, None)))

    rows = []
    for user_id, team_id, by_quarter, set_by, (calls, visits, demos) in scopes:
        years: dict[int, Decimal] = defaultdict(Decimal)
        for quarter, revenue in by_quarter.items():
            rows.append(
                Target(
                    user_id=user_id,
                    team_id=team_id,
                    period=Target.Period.QUARTER,
                    period_start=quarter,
                    revenue=revenue,
                    calls_per_day=calls,
                    visits_per_week=visits,
                    demos_per_week=demos,
                    set_by_id=set_by,
                )
            )
            thirds = [(revenue / 3).quantize(Decimal("1000"))] * 2
            thirds.append(revenue - sum(thirds))
            for k in range(3):
                rows.append(
                    Target(
                        user_id=user_id,
                        team_id=team_id,
                        period=Target.Period.MONTH,
                        period_start=_add_months(quarter, k),
                        revenue=thirds[k],
                        calls_per_day=calls,
                        visits_per_week=visits,
                        demos_per_week=demos,
                        set_by_id=set_by,
                    )
                )
            years[quarter.year] += revenue
        for year, revenue in years.items():
            first = min(q for q in by_quarter if q.year == year)
            missing = (first.month - 1) // 3  # quarters of that year before the window
            for k in range(missing):
                revenue += (by_quarter[first] / QUARTERLY_GROWTH ** (missing - k)).quantize(
                    Decimal("1000")
                )
            rows.append(
                Target(
                    user_id=user_id,
                    team_id=team_id,
                    period=Target.Period.YEAR,
                    period_start=date(year, 1, 1),
                    revenue=revenue,
                    calls_per_day=calls,
                    visits_per_week=visits,
                    demos_per_week=demos,
                    set_by_id=set_by,
                )
            )
    Target.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)


# ------------------------------------------------------------------ derived fields
def score_rfm_once(world: World) -> None:
    """RFM scores and segments as the nightly job (``jobs.rfm_scoring``) stores them.

    The job runs at 02:00: without this a new demo showed "—" for every client's
    segment on the first day. Only when no client has been scored yet, so a
    re-run on every ``make run`` neither rewrites the clients nor moves the
    scores the job keeps current.
    """
    from pipeline.services.rfm import rfm_score_clients

    if not Client.objects.filter(rfm_scored_at__isnull=False).exists():
        scored = rfm_score_clients(today=world.today, now=world.now)
        world.ctx.log(f"RFM: {scored}")


def refresh_derived_fields(today: date) -> None:
    """Clients' spend, key flag, last visit and next visit due; deals' last activity.

    Same definitions as the pipeline services: spend is the sum of won deals
    (CNY) closed after the same day a year ago up to today; a key account spends
    more than ``SALESORG_KEY_ACCOUNT_THRESHOLD``; the last visit is the latest
    done visit and the next one is due the cadence's days after its local date;
    a deal's last activity is its latest done activity.

    On PostgreSQL one set-based UPDATE per table, touching only rows whose values
    change (so a re-run on every ``make run`` rewrites nothing, and the large
    demo is not bloated by one rewrite per field); elsewhere the same in the ORM.
    """
    if connection.vendor == "postgresql":
        _refresh_postgresql(today)
    else:
        refresh_derived_fields_portable(today)


def refresh_derived_fields_portable(today: date) -> None:
    """``refresh_derived_fields`` in the ORM, for SQLite (``make run`` without a server)."""
    money = DecimalField(max_digits=14, decimal_places=2)
    won = (
        Deal.objects.filter(
            client=OuterRef("pk"),
            stage__kind=Stage.Kind.WON,
            currency=settings.DEFAULT_CURRENCY,
            closed_on__gt=a_year_before(today),
            closed_on__lte=today,
        )
        .order_by()
        .values("client")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    spend = Coalesce(Subquery(won, output_field=money), Value(Decimal("0")), output_field=money)
    Client.objects.update(spend_12m=spend)
    Client.objects.update(
        is_key_account=Case(
            When(spend_12m__gt=Client.key_account_threshold(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )
    # ORDER BY ... LIMIT 1 walks the (client, -start_at) index and stops at the first
    # match; MAX() with the extra filters would read every activity of the client.
    last_visit = (
        Activity.objects.filter(
            client=OuterRef("pk"), type=ActivityType.VISIT, status=Activity.Status.DONE
        )
        .order_by("-start_at")
        .values("start_at")[:1]
    )
    Client.objects.update(last_visit_at=Subquery(last_visit))
    tz = timezone.get_current_timezone()
    for cadence, days in CADENCE_DAYS.items():
        clients = Client.objects.filter(cadence=cadence)
        if days is None:
            clients.update(next_visit_due=None)
            continue
        clients.filter(last_visit_at__isnull=True).update(next_visit_due=None)
        clients.filter(last_visit_at__isnull=False).update(
            next_visit_due=ExpressionWrapper(
                TruncDate("last_visit_at", tzinfo=tz) + timedelta(days=days),
                output_field=DateField(),
            )
        )
    last_activity = (
        Activity.objects.filter(deal=OuterRef("pk"), status=Activity.Status.DONE)
        .order_by("-start_at")
        .values("start_at")[:1]
    )
    Deal.objects.update(last_activity_at=Subquery(last_activity))


def _refresh_postgresql(today: date) -> None:
    q = connection.ops.quote_name
    client, deal, stage, activity = (q(m._meta.db_table) for m in (Client, Deal, Stage, Activity))
    cadence_days = " ".join(
        f"WHEN '{code}' THEN {days}" for code, days in CADENCE_DAYS.items() if days
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH won AS (
                SELECT d.client_id, SUM(d.amount) AS spend
                FROM {deal} d JOIN {stage} s ON s.id = d.stage_id
                WHERE s.kind = %(won)s AND d.currency = %(currency)s
                  AND d.closed_on > %(year_ago)s AND d.closed_on <= %(today)s
                GROUP BY d.client_id
            ), visits AS (
                SELECT client_id, MAX(start_at) AS last FROM {activity}
                WHERE type = %(visit)s AND status = %(done)s AND client_id IS NOT NULL
                GROUP BY client_id
            ), fresh AS (
                SELECT c.id, COALESCE(won.spend, 0) AS spend, visits.last AS last_visit,
                       (visits.last AT TIME ZONE %(tz)s)::date
                         + (CASE c.cadence {cadence_days} END) AS due
                FROM {client} c
                LEFT JOIN won ON won.client_id = c.id
                LEFT JOIN visits ON visits.client_id = c.id
            )
            UPDATE {client} c
            SET spend_12m = f.spend, is_key_account = f.spend > %(threshold)s,
                last_visit_at = f.last_visit, next_visit_due = f.due
            FROM fresh f
            WHERE f.id = c.id AND (c.spend_12m, c.is_key_account, c.last_visit_at,
                  c.next_visit_due) IS DISTINCT FROM
                  (f.spend, f.spend > %(threshold)s, f.last_visit, f.due)
            """,  # noqa: S608 - table names and cadence days are ours, values are parameters
            {
                "won": Stage.Kind.WON,
                "currency": settings.DEFAULT_CURRENCY,
                "year_ago": a_year_before(today),
                "today": today,
                "visit": ActivityType.VISIT,
                "done": Activity.Status.DONE,
                "tz": str(timezone.get_current_timezone()),
                "threshold": Client.key_account_threshold(),
            },
        )
        # One pass over the activities instead of a lookup per deal.
        last_activity = (
            f"UPDATE {deal} d SET last_activity_at = x.last FROM ("  # noqa: S608
            f" SELECT deal_id, MAX(start_at) AS last FROM {activity}"
            " WHERE status = %s AND deal_id IS NOT NULL GROUP BY deal_id) x"
            " WHERE d.id = x.deal_id AND d.last_activity_at IS DISTINCT FROM x.last"
        )
        cursor.execute(last_activity, [Activity.Status.DONE])


def _analyze(*models: type) -> None:
    """Fresh statistics after a bulk load, so the planner picks the indexes at once
    (for the UPDATEs below and for the first page views)."""
    if connection.vendor != "postgresql":
        return
    models = models or (
        Client,
        Contact,
        Lead,
        Deal,
        DealStageChange,
        Activity,
        Quote,
        QuoteLine,
        Contract,
        Project,
        Milestone,
        Task,
    )
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# ------------------------------------------------------------------ entry point
LOADED = (
    Lead,
    Deal,
    Deal.products.through,
    DealStageChange,
    Activity,
    Activity.products_demonstrated.through,
    Objection,
    Quote,
    QuoteLine,
    QuoteApproval,
    Contract,
    Project,
    Milestone,
    Task,
)


def seed(ctx: SeedContext) -> None:
    world = World(ctx)
    started = clock.monotonic()
    changes_before = DealStageChange.objects.aggregate(last=Max("pk"))["last"] or 0
    with deferred_foreign_key_check(LOADED), indexes_built_after(LOADED):
        histories = seed_client_histories(world)
        world.loader.flush()
        ctx.log(f"histories of {histories} clients ({clock.monotonic() - started:.1f}s)")
        seed_leads(world)
        seed_daily_work(world)
        world.loader.flush()
        ctx.log(f"day-to-day work topped up ({clock.monotonic() - started:.1f}s)")
    _analyze()
    seed_targets(world)
    refresh_derived_fields(world.today)
    score_rfm_once(world)
    # The loader writes stage changes in bulk, past DealStageChange.save: derive
    # moved_on_at for the deals that gained changes in this run (none on a re-run).
    DealStageChange.objects.filter(
        deal__in=DealStageChange.objects.filter(pk__gt=changes_before).values("deal")
    ).refresh_moved_on()
    _analyze(Client, Deal)
    ctx.log(
        f"{Deal.objects.count()} deals, {Activity.objects.count()} activities, "
        f"{Lead.objects.count()} leads, {Contract.objects.count()} contracts "
        f"({clock.monotonic() - started:.1f}s)"
    )
    # --- demo survey history (care-surveys): needs the clients' projects above
    from clients import survey_seed

    survey_seed.seed(ctx)
    # --- end of surveys
